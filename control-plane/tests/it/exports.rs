//! Contact exports: CSV round trip through the import, formula safety, and the XLSX workbook
//! read back with a tiny ZIP reader (central directory → sheet entry → inflate).

use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use crate::helpers::*;
use crate::imports::{import_into_new_list, upload};

/// GET returning the raw body bytes (exports are not JSON).
async fn download(app: &TestApp, uri: &str, token: &str) -> (StatusCode, String, Vec<u8>) {
    let request = Request::builder()
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, content_type, bytes)
}

async fn contacts_of(db: &PgPool, account_id: Uuid) -> Vec<Value> {
    sqlx::query_scalar(
        "SELECT jsonb_build_object('phone', phone, 'first', first_name, 'last', last_name,
                'email', email, 'tags', tags, 'notes', notes, 'attributes', attributes)
           FROM contacts WHERE account_id = $1 ORDER BY phone",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
    .unwrap()
}

const CSV: &str = "phone,first_name,last_name,email,tags,notes,City\n\
    +254712000101,Amina,\"O'Neil, Jr\",amina@example.com,vip;nairobi,\"two\nlines\",Nairobi\n\
    +254712000102,=HYPERLINK(\"http://evil\"),Two,,,@SUM(A1),\n\
    +254712000103,Zoë,Three,,new,,Kisumu\n";

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn csv_export_round_trips_through_the_import(db: PgPool) {
    let app = spawn_app(db);
    let a = app.verified("export-a@example.com").await;
    let (_, list_id) = import_into_new_list(&app, &a.access, CSV, "Export me").await;

    let (status, content_type, bytes) = download(
        &app,
        &format!("/v1/contact-lists/{list_id}/export?format=csv"),
        &a.access,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"));
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes.clone()).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{FEFF}').split("\r\n").collect();
    assert_eq!(
        lines[0],
        "phone,first_name,last_name,email,tags,notes,status,invalid_reason,operator,country,opted_out,created_at,City"
    );
    // The formula was neutralised on the way in and stays inert on the way out.
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{text}"
    );
    assert!(text.contains(",'@SUM(A1),"), "{text}");
    assert!(!text.contains(",=") && !text.contains(",@"), "{text}");

    // Re-importing the export elsewhere gives the same contacts.
    let b = app.verified("export-b@example.com").await;
    let up = upload(&app, &b.access, "", bytes).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    assert_eq!(up.json["counts"]["valid"], 3, "{}", up.text);
    let id = up.json["id"].as_str().unwrap();
    let done = app
        .post(
            &format!("/v1/contacts/imports/{id}/commit"),
            Some(&b.access),
            json!({"list_name": "Copy"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let original = contacts_of(&app.db, a.account_id).await;
    assert_eq!(original.len(), 3);
    assert_eq!(contacts_of(&app.db, b.account_id).await, original);

    // Filters: by tag, by search; a bad filter names its field; another list is 404.
    let (_, _, bytes) = download(&app, "/v1/contacts/export?tag=vip", &a.access).await;
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.matches("+2547").count(), 1, "{text}");
    let (_, _, bytes) = download(&app, "/v1/contacts/export?q=zo%C3%AB", &a.access).await;
    assert!(String::from_utf8(bytes).unwrap().contains("+254712000103"));
    let r = app.get("/v1/contacts/export?status=maybe", &a.access).await;
    assert_eq!(r.json["errors"][0]["field"], "status");
    let r = app
        .get(
            &format!("/v1/contacts/export?list_id={}", Uuid::now_v7()),
            &a.access,
        )
        .await;
    assert_eq!(r.json["errors"][0]["field"], "list_id");
    let (status, _, _) = download(
        &app,
        &format!("/v1/contact-lists/{list_id}/export"),
        &b.access,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The entries of a ZIP archive by name, read through its central directory.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
    let eocd = bytes.len() - 22;
    assert_eq!(u32_at(eocd), 0x0605_4b50, "end of central directory");
    let (count, mut at) = (u16_at(eocd + 10), u32_at(eocd + 16));
    let mut entries = Vec::new();
    for _ in 0..count {
        assert_eq!(u32_at(at), 0x0201_4b50, "central directory header");
        let (method, compressed) = (u16_at(at + 10), u32_at(at + 20));
        let name_len = u16_at(at + 28);
        let name = String::from_utf8(bytes[at + 46..at + 46 + name_len].to_vec()).unwrap();
        let local = u32_at(at + 42);
        assert_eq!(u32_at(local), 0x0403_4b50, "local header of {name}");
        let data = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        let raw = &bytes[data..data + compressed];
        let content = match method {
            0 => raw.to_vec(),
            8 => {
                let mut out = Vec::new();
                flate2::read::DeflateDecoder::new(raw)
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            m => panic!("method {m}"),
        };
        entries.push((name, content));
        at += 46 + name_len + u16_at(at + 30) + u16_at(at + 32);
    }
    entries
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn xlsx_export_is_a_workbook_with_inert_cells(db: PgPool) {
    let app = spawn_app(db);
    let a = app.verified("xlsx@example.com").await;
    import_into_new_list(&app, &a.access, CSV, "Sheet").await;
    // A contact whose name is a live formula (as the API could store it): inert on the way out.
    sqlx::query(
        "INSERT INTO contacts (id, account_id, phone, phone_raw, status, first_name)
         VALUES ($1, $2, '+254712000104', '+254712000104', 'valid', '=1+2')",
    )
    .bind(Uuid::now_v7())
    .bind(a.account_id)
    .execute(&app.db)
    .await
    .unwrap();
    let (_, _, csv) = download(&app, "/v1/contacts/export", &a.access).await;
    assert!(String::from_utf8(csv).unwrap().contains(",'=1+2,"));
    let (status, content_type, bytes) =
        download(&app, "/v1/contacts/export?format=xlsx", &a.access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(bytes.starts_with(b"PK\x03\x04"));
    let entries = unzip(&bytes);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"[Content_Types].xml") && names.contains(&"xl/workbook.xml"));
    let sheet = entries
        .iter()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .map(|(_, c)| String::from_utf8(c.clone()).unwrap())
        .unwrap();
    assert!(
        sheet.contains("<t xml:space=\"preserve\">+254712000101</t>"),
        "{sheet}"
    );
    assert!(sheet.contains("O'Neil, Jr"), "{sheet}");
    assert!(sheet.contains("Zoë") && sheet.contains("two\nlines"));
    // No formula element anywhere; formula-looking text gets the quote-prefix style.
    assert!(!sheet.contains("<f>") && !sheet.contains("<f "));
    assert!(
        sheet.contains("<c t=\"inlineStr\" s=\"1\"><is><t xml:space=\"preserve\">=1+2</t>"),
        "{sheet}"
    );
    assert!(
        sheet.contains(">'=HYPERLINK(&quot;http://evil&quot;)</t>"),
        "{sheet}"
    );
    assert_eq!(sheet.matches("<row>").count(), 5);
}

/// The ids of the account's contacts carrying `tag`, sorted.
async fn ids_tagged(db: &PgPool, account_id: Uuid, tag: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT id::text FROM contacts WHERE account_id = $1 AND $2 = ANY(tags) ORDER BY id::text",
    )
    .bind(account_id)
    .bind(tag)
    .fetch_all(db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn one_filter_selects_the_same_contacts_in_list_bulk_and_export(db: PgPool) {
    let app = spawn_app(db);
    let a = app.verified("filter-a@example.com").await;
    let t = a.access.as_str();
    let mut made = Vec::new();
    for (phone, name, tags) in [
        ("0712000001", "Amina", json!(["vip", "nairobi"])),
        ("0712000002", "Brian", json!(["vip"])),
        ("0712000003", "Vipul", json!(["other"])),
        ("0712000004", "Dora", json!(["vip"])),
    ] {
        let r = app
            .post(
                "/v1/contacts",
                Some(t),
                json!({"phone": phone, "first_name": name, "tags": tags}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        made.push(r.json["id"].as_str().unwrap().to_owned());
    }
    // A trashed contact matches no filter anywhere.
    let r = app
        .call(
            axum::http::Method::DELETE,
            &format!("/v1/contacts/{}", made[3]),
            Some(t),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);

    // A national number in `q` matches the E.164 phone everywhere.
    let filters = [
        (json!({"tag": "vip"}), "tag=vip"),
        (
            json!({"tag": "vip", "q": "0712000001"}),
            "tag=vip&q=0712000001",
        ),
        (json!({"q": "vip"}), "q=vip"),
        (
            json!({"status": "valid", "opted_out": false}),
            "status=valid&opted_out=false",
        ),
    ];
    for (n, (body, query)) in filters.into_iter().enumerate() {
        let listed = app.get(&format!("/v1/contacts?{query}"), t).await;
        assert_eq!(listed.status, StatusCode::OK, "{query}: {}", listed.text);
        let mut listed: Vec<String> = listed.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        listed.sort();
        assert!(!listed.is_empty(), "{query} selects someone");

        let marker = format!("picked-{n}");
        let r = app
            .post(
                "/v1/contacts/bulk",
                Some(t),
                json!({"action": "tag", "filter": body, "tags": [marker]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        assert_eq!(r.json["matched"], listed.len(), "{query}");
        assert_eq!(
            ids_tagged(&app.db, a.account_id, &marker).await,
            listed,
            "{query}"
        );

        let (status, _, bytes) = download(&app, &format!("/v1/contacts/export?{query}"), t).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        let text = String::from_utf8(bytes).unwrap();
        let phones: Vec<String> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_owned())
            .collect();
        let mut exported: Vec<String> = sqlx::query_scalar(
            "SELECT id::text FROM contacts WHERE account_id = $1 AND phone = ANY($2)",
        )
        .bind(a.account_id)
        .bind(&phones)
        .fetch_all(&app.db)
        .await
        .unwrap();
        exported.sort();
        assert_eq!(exported, listed, "{query}: {text}");
    }
}
