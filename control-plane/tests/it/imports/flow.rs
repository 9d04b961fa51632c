//! The import flow: upload, dry run, commit (once, also under concurrency), mapping, the 100k benchmark.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn upload_dry_run_commit_and_commit_again(db: PgPool) {
    let app = spawn_app(db);
    let a = app.verified("imports@example.com").await;
    // An existing contact, which the import links instead of re-creating.
    let (_, _) = import_into_new_list(&app, &a.access, "phone\n+254712000001\n", "Old").await;
    let csv = "Mobile Number;First Name;Surname;E-mail;Tags;City\n\
               0712 000 001;Existing;One;e@example.com;vip;Nairobi\n\
               +254712000002;Amina;Two;amina@example.com;vip|new;Mombasa\n\
               254712000003;Baraka;;;;\n\
               0712000002;Dup;Of Two;;;\n\
               07x2;Bad;Number;;;\n\
               0712000004;Bad;Email;not-an-email;;\n\
               020 2222222;Land;Line;;;\n";
    let up = upload(&app, &a.access, "?filename=contacts.csv", csv).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    let i = &up.json;
    assert_eq!(i["status"], "validated");
    assert_eq!(i["delimiter"], ";");
    assert_eq!(i["has_header"], true);
    assert_eq!(
        i["mapping"],
        json!({"phone": 1, "first_name": 2, "last_name": 3, "email": 4, "tags": 5})
    );
    let counts = &i["counts"];
    assert_eq!(counts["total"], 7);
    assert_eq!(counts["valid"], 4);
    assert_eq!(counts["invalid"], 3);
    assert_eq!(counts["duplicate_in_file"], 1);
    assert_eq!(counts["existing"], 1);
    assert_eq!(counts["new"], 2);
    let id = i["id"].as_str().unwrap().to_owned();

    let dry = app
        .get(
            &format!("/v1/contacts/imports/{id}/dry-run?sample=5"),
            &a.access,
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(dry.json["sample"][0]["phone"], "+254712000001");
    assert_eq!(dry.json["sample"].as_array().unwrap().len(), 3);
    let rejected: Vec<(i64, String)> = dry.json["rejected_sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(rejected.len(), 4, "{rejected:?}");
    assert_eq!(
        rejected[0],
        (5, "duplicate: same number as row 3".to_owned())
    );
    assert!(
        rejected[1].1.starts_with("phone: invalid character"),
        "{rejected:?}"
    );
    assert!(rejected[2].1.starts_with("email:"), "{rejected:?}");
    assert!(rejected[3].1.contains("cannot receive SMS"), "{rejected:?}");
    let before = contact_count(&app.db, a.account_id).await;
    assert_eq!(before, 1, "the dry run writes no contact");

    let r = app
        .get(&format!("/v1/contacts/imports/{id}/rejected"), &a.access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = r.text.trim_start_matches('\u{FEFF}').lines().collect();
    assert_eq!(
        lines[0],
        "row,reason,Mobile Number,First Name,Surname,E-mail,Tags,City"
    );
    assert_eq!(lines.len(), 5, "{}", r.text);
    assert!(
        lines[2].starts_with("6,\"phone: invalid character"),
        "{}",
        lines[2]
    );

    let commit = app
        .post(
            &format!("/v1/contacts/imports/{id}/commit"),
            Some(&a.access),
            json!({"list_name": "Customers"}),
        )
        .await;
    assert_eq!(commit.status, StatusCode::OK, "{}", commit.text);
    assert_eq!(commit.json["status"], "completed");
    assert_eq!(commit.json["counts"]["new"], 2);
    assert_eq!(commit.json["linked_contacts"], 3);
    let list_id: Uuid = commit.json["list_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(contact_count(&app.db, a.account_id).await, 3);
    let amina: (String, Vec<String>, Value, Option<String>) = sqlx::query_as(
        "SELECT first_name, tags, attributes, consent_source FROM contacts WHERE phone = '+254712000002'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(amina.0, "Amina");
    assert_eq!(amina.1, ["vip", "new"]);
    assert_eq!(amina.2, json!({"City": "Mombasa"}));
    assert_eq!(amina.3.as_deref(), Some("CSV import"));
    let existing: String = sqlx::query_scalar(
        "SELECT coalesce(first_name, '') FROM contacts WHERE phone = '+254712000001'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        existing, "",
        "an existing contact is linked, not overwritten"
    );
    let list: (String, i32, i32) =
        sqlx::query_as("SELECT name, total_count, valid_count FROM contact_lists WHERE id = $1")
            .bind(list_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(list, ("Customers".to_owned(), 3, 3));

    // Committing again (same or another target) imports nothing twice.
    for body in [
        json!({"list_name": "Customers"}),
        json!({"list_name": "Other"}),
    ] {
        let again = app
            .post(
                &format!("/v1/contacts/imports/{id}/commit"),
                Some(&a.access),
                body,
            )
            .await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.json["list_id"], list_id.to_string());
    }
    assert_eq!(contact_count(&app.db, a.account_id).await, 3);
    let lists: i64 = sqlx::query_scalar("SELECT count(*) FROM contact_lists WHERE account_id = $1")
        .bind(a.account_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(lists, 2);

    // Listed, newest first, and filterable by status.
    let listed = app
        .get("/v1/contacts/imports?status=completed&limit=1", &a.access)
        .await;
    assert_eq!(listed.json["data"][0]["id"], id);
    assert!(listed.json["next_cursor"].is_string());
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn header_detection_and_explicit_mapping(db: PgPool) {
    let app = spawn_app(db);
    let a = app.verified("mapping@example.com").await;
    // No header: the phone column is found by its content.
    let up = upload(
        &app,
        &a.access,
        "",
        "Wanjiru,+254712000010\nOtieno,0712000011\n",
    )
    .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    assert_eq!(up.json["has_header"], false);
    assert_eq!(up.json["mapping"], json!({"phone": 2}));
    assert_eq!(up.json["counts"]["valid"], 2);

    // Unknown header names: mapped explicitly by name and by number; tab-separated.
    let csv = "Kontakt\tJina\tBarua\n0712000012\tAsha\tasha@example.com\n";
    let up = upload(
        &app,
        &a.access,
        "?phone_column=kontakt&first_name_column=2&email_column=Barua&delimiter=tab",
        csv,
    )
    .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    assert_eq!(
        up.json["mapping"],
        json!({"phone": 1, "first_name": 2, "email": 3})
    );
    assert_eq!(up.json["counts"]["valid"], 1);

    // Forcing "no header" makes row 1 data (and rejected: "phone" is not a number).
    let up = upload(
        &app,
        &a.access,
        "?header=false&phone_column=1",
        "phone\n0712000013\n",
    )
    .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    assert_eq!(up.json["counts"]["total"], 2);
    assert_eq!(up.json["counts"]["invalid"], 1);

    // Bad choices name the parameter; nothing is created.
    for (query, field) in [
        ("?email_column=Nope", "email_column"),
        ("?default_country=XX", "default_country"),
        ("?delimiter=x", "delimiter"),
    ] {
        let r = upload(&app, &a.access, query, "phone\n0712000014\n").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.text
        );
        assert_eq!(r.json["errors"][0]["field"], field, "{}", r.text);
    }
    let r = upload(&app, &a.access, "", "name,city\nAsha,Nakuru\n").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["errors"][0]["field"], "phone_column");
    // A national number needs the default country: Tanzania here.
    let up = upload(
        &app,
        &a.access,
        "?default_country=tz",
        "phone\n0754123456\n",
    )
    .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    let id = up.json["id"].as_str().unwrap();
    let dry = app
        .get(&format!("/v1/contacts/imports/{id}/dry-run"), &a.access)
        .await;
    assert_eq!(dry.json["sample"][0]["phone"], "+255754123456");
}

/// Two commits of one import at once: one imports, the other waits its turn (409) or sees the
/// completed import; nothing is imported twice.
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn concurrent_commits_import_once(db: PgPool) {
    let app = spawn_app(db);
    let a = app.verified("race@example.com").await;
    let mut csv = String::from("phone\n");
    for i in 0..2_000 {
        csv.push_str(&format!("07{:08}\n", 10_000_000 + i));
    }
    let up = upload(&app, &a.access, "", csv).await;
    let uri = format!(
        "/v1/contacts/imports/{}/commit",
        up.json["id"].as_str().unwrap()
    );
    let (one, two) = tokio::join!(
        app.post(&uri, Some(&a.access), json!({"list_name": "One"})),
        app.post(&uri, Some(&a.access), json!({"list_name": "Two"})),
    );
    let statuses = [one.status, two.status];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(contact_count(&app.db, a.account_id).await, 2_000);
    let members = count(&app.db, "SELECT count(*) FROM contact_list_memberships").await;
    assert_eq!(members, 2_000);
}

/// 100,000 rows: upload (parse + validate + COPY), dry run, commit. Prints the timings; run in
/// release: `cargo test --release -p semalink-control-plane --test it imports::flow::bench -- --ignored --nocapture`.
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
async fn bench_100k_rows(db: PgPool) {
    const ROWS: u32 = 100_000;
    let mut config = test_config();
    config.server.request_timeout_secs = 600;
    let app = spawn_app_with(db, config);
    let a = app.verified("bench@example.com").await;
    let mut csv = String::from("phone,first_name,last_name,email,tags,City\n");
    for i in 0..ROWS {
        // Safaricom 0710–0729 blocks; every 50th row repeats an earlier number, every 100th
        // is not a number.
        let n = if i % 50 == 49 { i - 1 } else { i };
        if i % 100 == 99 {
            csv.push_str(&format!("07x{i},Bad,Row,,,\n"));
        } else {
            csv.push_str(&format!(
                "07{:08},First{i},Last{i},user{i}@example.com,tag{};bulk,Town{}\n",
                10_000_000 + n,
                i % 7,
                i % 13
            ));
        }
    }
    let bytes = csv.len();
    let t = Instant::now();
    let up = upload(&app, &a.access, "?filename=bench.csv", csv).await;
    let upload_time = t.elapsed();
    println!("bench: upload {upload_time:.2?}: {}", up.status);
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    let id = up.json["id"].as_str().unwrap().to_owned();
    let t = Instant::now();
    let dry = app
        .get(&format!("/v1/contacts/imports/{id}/dry-run"), &a.access)
        .await;
    let dry_time = t.elapsed();
    println!("bench: dry run {dry_time:.2?}: {}", dry.status);
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    let t = Instant::now();
    let done = app
        .post(
            &format!("/v1/contacts/imports/{id}/commit"),
            Some(&a.access),
            json!({"list_name": "Bench"}),
        )
        .await;
    let commit_time = t.elapsed();
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    println!(
        "bench: {ROWS} rows ({:.1} MB): upload+validate {:.2?}, dry run {:.2?}, commit {:.2?}, total {:.2?}; counts {}",
        bytes as f64 / 1e6,
        upload_time,
        dry_time,
        commit_time,
        upload_time + dry_time + commit_time,
        done.json["counts"]
    );
    assert_eq!(done.json["counts"]["new"], 98_000);
}
