//! The deployment files in `docker/` against the code: every `semalink_*` metric that a Grafana
//! dashboard or a Prometheus alert rule uses is a family one of the services registers (so a
//! renamed metric fails here, not silently on a dashboard), and `promtool` accepts the
//! Prometheus config and rules when it is installed (`scripts/services.sh` installs it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn docker_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker")
}

/// The dashboards and the Prometheus files, with their text.
fn deployment_files() -> Vec<(PathBuf, String)> {
    let docker = docker_dir();
    let mut paths = vec![
        docker.join("prometheus/alerts.yml"),
        docker.join("prometheus/prometheus.yml"),
    ];
    let dashboards = docker.join("grafana/dashboards");
    for entry in std::fs::read_dir(&dashboards).expect("docker/grafana/dashboards exists") {
        let path = entry.expect("readable directory").path();
        if path.extension().is_some_and(|e| e == "json") {
            paths.push(path);
        }
    }
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            (p, text)
        })
        .collect()
}

/// Every `semalink_…` identifier in `text` (metric names; job names use hyphens).
fn metric_names(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while let Some(at) = text[i..].find("semalink_") {
        let start = i + at;
        let boundary = start == 0 || !is_ident(bytes[start - 1]);
        let mut end = start;
        while end < bytes.len() && is_ident(bytes[end]) {
            end += 1;
        }
        if boundary && end > start + "semalink_".len() {
            names.insert(text[start..end].to_owned());
        }
        i = end.max(start + 1);
    }
    names
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The family a series name belongs to: a histogram's `_bucket`, `_sum` and `_count` series
/// are its family's.
fn is_exported(name: &str, families: &BTreeSet<String>) -> bool {
    families.contains(name)
        || ["_bucket", "_sum", "_count"]
            .iter()
            .any(|s| name.strip_suffix(s).is_some_and(|f| families.contains(f)))
}

#[test]
fn every_dashboard_and_alert_metric_is_exported() {
    let mut families: BTreeSet<String> = semalink_engine::metrics::Metrics::new()
        .family_names()
        .iter()
        .cloned()
        .collect();
    families.extend(semalink_control_plane::metrics::Metrics::new().family_names());
    assert!(families.contains("semalink_engine_submits_total"));
    assert!(families.contains("semalink_api_http_requests_total"));

    let mut used = 0;
    let mut missing = Vec::new();
    for (path, text) in deployment_files() {
        for name in metric_names(&text) {
            used += 1;
            if !is_exported(&name, &families) {
                missing.push(format!("{}: {name}", path.display()));
            }
        }
    }
    assert!(
        used >= 20,
        "only {used} metric names found: is the extraction broken?"
    );
    assert!(
        missing.is_empty(),
        "metrics used by docker/ but exported by no service:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_extraction_finds_what_a_rule_names() {
    let names = metric_names(
        r#"rate(semalink_engine_submits_total{job="semalink-engine"}[5m]) / x_semalink_y + semalink_* + semalink_api_http_request_duration_seconds_bucket"#,
    );
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "semalink_api_http_request_duration_seconds_bucket",
            "semalink_engine_submits_total"
        ]
    );
    let families = BTreeSet::from(["semalink_api_http_request_duration_seconds".to_owned()]);
    assert!(is_exported(
        "semalink_api_http_request_duration_seconds_bucket",
        &families
    ));
    assert!(!is_exported("semalink_api_nope_bucket", &families));
}

#[test]
fn promtool_accepts_the_config_and_the_rules() {
    let prometheus = docker_dir().join("prometheus");
    let Ok(version) = Command::new("promtool").arg("--version").output() else {
        eprintln!("SKIPPED: promtool is not installed (Debian package prometheus)");
        return;
    };
    assert!(version.status.success());
    for args in [
        vec!["check", "rules", "alerts.yml"],
        // --syntax-only: the bearer-token file exists only on a deployed host.
        vec!["check", "config", "--syntax-only", "prometheus.yml"],
    ] {
        let out = Command::new("promtool")
            .args(&args)
            .current_dir(&prometheus)
            .output()
            .expect("promtool runs");
        assert!(
            out.status.success(),
            "promtool {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn compose_file_validates_when_docker_compose_exists() {
    let compose = docker_dir().join("compose.yml");
    let available = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("SKIPPED: docker compose is not installed; compose.yml not validated");
        return;
    }
    let env = docker_dir().join(".env");
    let created = !env.exists();
    if created {
        std::fs::copy(docker_dir().join("env.example"), &env).expect("env.example copies");
    }
    let out = Command::new("docker")
        .args(["compose", "-f"])
        .arg(&compose)
        .args(["config", "--quiet"])
        .output()
        .expect("docker compose runs");
    if created {
        let _ = std::fs::remove_file(&env);
    }
    assert!(
        out.status.success(),
        "docker compose config failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
