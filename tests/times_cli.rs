//! Times on the command line (issue 10 item 18): `--at` accepts the forms a
//! campaign does, `gate --at` reads a time without offset in the campaign's
//! zone and refuses a bare date, and a `send_at` already past is a warning.

use assert_cmd::Command;

const CAMPAIGN: &str = "examples/campaigns/spring-sale.yaml";
const PARIS: &str = "{\"id\":\"a\",\"jurisdiction\":\"EU-FR\",\"age\":40,\"timezone\":\"Europe/Paris\",\"consents\":{\"email_marketing\":{\"granted_at\":\"2026-06-01\"}}}\n";

fn scruple(args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .args(args)
        .arg("--no-config")
        .write_stdin(stdin)
        .output()
        .expect("scruple runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The example campaign with its schedule in `zone`, in a temporary file.
fn campaign_in(zone: &str) -> tempfile::TempPath {
    let text =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CAMPAIGN))
            .expect("example campaign");
    let text = text.replace("timezone: recipient", &format!("timezone: {zone}"));
    let file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    std::fs::write(file.path(), text).expect("written");
    file.into_temp_path()
}

#[test]
fn at_accepts_the_civil_form_campaigns_use() {
    // Refused before, although campaigns require exactly this form.
    let (code, stdout, stderr) = scruple(&["check", CAMPAIGN, "--at", "2026-11-23T10:00"], "");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    let (code, _, stderr) = scruple(&["check", CAMPAIGN, "--at", "soon"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("2026-11-23T10:00"), "{stderr}");
}

#[test]
fn gate_at_a_bare_date_is_refused_not_midnight_utc() {
    // Midnight UTC is 01:00 in Paris: every EU recipient was suppressed for
    // quiet hours. A send slot needs its time of day.
    let (code, stdout, stderr) = scruple(
        &["gate", CAMPAIGN, "--recipients", "-", "--at", "2026-12-01"],
        PARIS,
    );
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("scruple::gate::bad_time"), "{stderr}");
}

#[test]
fn gate_at_without_offset_is_in_the_campaign_zone() {
    // 10:00 in Tokyo is 02:00 in Paris: quiet hours. Read as UTC it would
    // have been 11:00 in Paris and allowed.
    let tokyo = campaign_in("Asia/Tokyo");
    let path = tokyo.to_str().expect("utf-8 path");
    let args = [
        "gate",
        path,
        "--recipients",
        "-",
        "--at",
        "2026-12-01T10:00",
    ];
    let (code, stdout, stderr) = scruple(&args, PARIS);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("\"decision\":\"suppress\"") && stdout.contains("baseline_quiet_hours"),
        "{stdout}"
    );
    // With `timezone: recipient` it is UTC, and an explicit offset is exact.
    for at in ["2026-12-01T10:00", "2026-12-01T10:00:00+01:00"] {
        let args = ["gate", CAMPAIGN, "--recipients", "-", "--at", at];
        let (code, stdout, stderr) = scruple(&args, PARIS);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("\"decision\":\"allow\""), "{at}: {stdout}");
    }
}

#[test]
fn send_at_in_the_past_is_a_warning() {
    let (code, stdout, stderr) = scruple(&["check", CAMPAIGN, "--at", "2026-12-05"], "");
    assert_eq!(code, 0, "a warning only: {stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("scruple::campaign::past_send"), "{all}");
    assert!(all.contains("spring-sale.yaml:35:"), "{all}");
    // Before the send, or as JSON, it is there only when past.
    let (_, stdout, stderr) = scruple(&["check", CAMPAIGN, "--at", "2026-11-23"], "");
    assert!(!format!("{stdout}{stderr}").contains("past_send"));
    let args = ["check", CAMPAIGN, "--at", "2026-12-05", "--format", "json"];
    let (_, stdout, _) = scruple(&args, "");
    assert!(stdout.contains("scruple::campaign::past_send"), "{stdout}");
}
