//! Hostile files, validation, scopes, progress and cancellation.

use super::*;

/// Hostile files give a clear 4xx or a safe result; never a 500, never a contact before commit.
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn hostile_files(db: PgPool) {
    let app = spawn_app(db);
    let a = app.verified("hostile@example.com").await;
    let utf16 = |big: bool| {
        let text = "phone,name\n0712000020,Zoë\n";
        let mut bytes = if big {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in text.encode_utf16() {
            bytes.extend(if big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        bytes
    };
    let mut huge_line = b"phone,name\n0712000021,A\n0712000022,".to_vec();
    huge_line.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    huge_line.extend_from_slice(b"\n0712000023,C\n");
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 1)
        .collect();
    // (body, expected status, expected valid rows or the error text)
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("utf-8 bom", b"\xEF\xBB\xBFphone,name\n0712000020,Zo\xC3\xAB\n".to_vec(), StatusCode::CREATED, "1 Zoë"),
        ("utf-16le", utf16(false), StatusCode::CREATED, "1 Zoë"),
        ("utf-16be", utf16(true), StatusCode::CREATED, "1 Zoë"),
        ("latin-1", b"phone,name\n0712000020,Zo\xEB\n".to_vec(), StatusCode::CREATED, "1 Zoë"),
        (
            "quotes and newlines",
            b"phone,name,notes\r\n\"0712000020\",\"Zo\xC3\xAB\",\"line 1\r\nline \"\"2\"\", with comma\"\r\n".to_vec(),
            StatusCode::CREATED,
            "1 Zoë",
        ),
        ("10 MB line", huge_line, StatusCode::CREATED, "2 A"),
        ("empty", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "empty"),
        ("blank", b"\r\n\r\n  \n".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "empty"),
        ("only header", b"phone,name\n".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "no data rows"),
        ("xlsx", b"PK\x03\x04\x14\x00rest".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "xlsx"),
        ("nul bytes", b"p\0h\0o\0n\0e\0".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "NUL"),
        ("garbage", garbage, StatusCode::UNPROCESSABLE_ENTITY, "phone"),
        ("one huge line", vec![b'7'; 200 * 1024], StatusCode::UNPROCESSABLE_ENTITY, "first 64 KiB"),
    ];
    for (name, body, status, expect) in cases {
        let r = upload(&app, &a.access, "", body).await;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        if status == StatusCode::CREATED {
            let (valid, first) = expect.split_once(' ').unwrap();
            assert_eq!(
                r.json["counts"]["valid"].to_string(),
                valid,
                "{name}: {}",
                r.text
            );
            let id = r.json["id"].as_str().unwrap();
            let dry = app
                .get(&format!("/v1/contacts/imports/{id}/dry-run"), &a.access)
                .await;
            assert_eq!(
                dry.json["sample"][0]["first_name"], first,
                "{name}: {}",
                dry.text
            );
        } else {
            assert_eq!(problem_type(&r), "validation", "{name}");
            let field = r.json["errors"][0]["field"].as_str().unwrap();
            assert!(
                field == "file" || field == "phone_column",
                "{name}: {field}"
            );
            assert!(r.text.contains(expect), "{name}: {}", r.text);
        }
    }
    // The long row is rejected by number, the rows around it are fine.
    let imports = app
        .get("/v1/contacts/imports?status=validated", &a.access)
        .await;
    let huge = imports.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["counts"]["total"] == 3)
        .unwrap();
    let dry = app
        .get(
            &format!(
                "/v1/contacts/imports/{}/dry-run",
                huge["id"].as_str().unwrap()
            ),
            &a.access,
        )
        .await;
    assert_eq!(dry.json["rejected_sample"][0]["row"], 3);
    assert!(
        dry.json["rejected_sample"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("longer than")
    );

    // Formula cells are stored neutralised and counted.
    let r = upload(
        &app,
        &a.access,
        "",
        "phone,name,notes,tags\n0712000024,=cmd|' /C calc'!A0,@SUM(A1),+x;ok\n",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["counts"]["neutralised_cells"], 3);
    let id = r.json["id"].as_str().unwrap();
    let dry = app
        .get(&format!("/v1/contacts/imports/{id}/dry-run"), &a.access)
        .await;
    assert_eq!(dry.json["sample"][0]["first_name"], "'=cmd|' /C calc'!A0");
    assert_eq!(dry.json["sample"][0]["tags"], json!(["'+x", "ok"]));

    // Strict UTF-8 rejects the Latin-1 row with a reason instead of guessing.
    let r = upload(
        &app,
        &a.access,
        "?encoding=utf-8",
        b"phone,name\n0712000020,Zo\xEB\n".to_vec(),
    )
    .await;
    assert_eq!(r.json["counts"]["invalid"], 1, "{}", r.text);
    assert_eq!(
        contact_count(&app.db, a.account_id).await,
        0,
        "no upload imports anything"
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn scopes_validation_cancel_and_delete(db: PgPool) {
    let app = spawn_app(db);
    let a = app.verified("scopes@example.com").await;
    let key = app
        .post(
            "/v1/api-keys",
            Some(&a.access),
            json!({"name": "ro", "scopes": ["contacts:read"]}),
        )
        .await;
    let read_only = key.json["secret"].as_str().unwrap().to_owned();
    let r = upload(&app, &read_only, "", "phone\n0712000030\n").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post("/v1/contacts/imports", Some(&a.access), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app.get("/v1/contacts/imports?status=nope", &a.access).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let up = upload(&app, &a.access, "", "phone\n0712000030\n").await;
    let id = up.json["id"].as_str().unwrap().to_owned();
    // The read-only key can read it.
    assert_eq!(
        app.get(&format!("/v1/contacts/imports/{id}"), &read_only)
            .await
            .status,
        StatusCode::OK
    );
    let commit_uri = format!("/v1/contacts/imports/{id}/commit");
    for (body, field) in [
        (json!({}), "list_id"),
        (json!({"list_name": " "}), "list_name"),
        (
            json!({"list_id": Uuid::now_v7(), "list_name": "x"}),
            "list_name",
        ),
        (json!({"list_id": Uuid::now_v7()}), "list_id"),
    ] {
        let r = app.post(&commit_uri, Some(&a.access), body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.json["errors"][0]["field"], field);
    }
    let r = app
        .post(
            &format!("/v1/contacts/imports/{id}/cancel"),
            Some(&a.access),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "cancelled");
    let r = app
        .post(&commit_uri, Some(&a.access), json!({"list_name": "Late"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let staged = count(&app.db, "SELECT count(*) FROM contact_import_rows").await;
    assert_eq!(staged, 0);
    let r = app
        .call(
            Method::DELETE,
            &format!("/v1/contacts/imports/{id}"),
            Some(&a.access),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/v1/contacts/imports/{id}"), &a.access)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(contact_count(&app.db, a.account_id).await, 0);
}

/// While a file streams in, the import is visible with its progress; cancelling it stops the
/// upload, which answers 409 and leaves no staged row.
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn progress_while_uploading_and_cancel_midway(db: PgPool) {
    let app = spawn_app(db);
    let a = app.verified("progress@example.com").await;
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let chunk = |from: u32| {
        let mut part = String::new();
        for i in from..from + 5_000 {
            part.push_str(&format!("07{:08},Name{i}\n", 10_000_000 + i));
        }
        part.into_bytes()
    };
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/contacts/imports?filename=slow.csv")
        .header("authorization", format!("Bearer {}", a.access))
        .header("content-type", "text/csv")
        .header("content-length", "10000000")
        .body(Body::from_stream(rx))
        .unwrap();
    let router = app.router.clone();
    let uploading = tokio::spawn(async move {
        use tower::ServiceExt;
        router.oneshot(request).await.unwrap().status()
    });
    use futures::SinkExt;
    let mut next = 0;
    let mut seen = None;
    for _ in 0..100 {
        tx.send(Ok(chunk(next))).await.unwrap();
        next += 5_000;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let list = app.get("/v1/contacts/imports", &a.access).await;
        let import = &list.json["data"][0];
        if import["status"] == "validating" && import["bytes_received"].as_i64() > Some(0) {
            seen = Some(import.clone());
            break;
        }
    }
    let import = seen.expect("the import shows its progress while uploading");
    assert!(import["progress"].as_i64().unwrap() < 100, "{import}");
    assert!(import["counts"]["total"].as_i64().unwrap() > 0, "{import}");
    let id = import["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/contacts/imports/{id}/cancel"),
            Some(&a.access),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The upload notices at its next progress write.
    while !uploading.is_finished() {
        if tx.send(Ok(chunk(next))).await.is_err() {
            break;
        }
        next += 5_000;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(uploading.await.unwrap(), StatusCode::CONFLICT);
    let r = app
        .get(&format!("/v1/contacts/imports/{id}"), &a.access)
        .await;
    assert_eq!(r.json["status"], "cancelled");
    let staged = count(&app.db, "SELECT count(*) FROM contact_import_rows").await;
    assert_eq!(staged, 0);
}
