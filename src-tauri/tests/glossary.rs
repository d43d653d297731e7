//! One glossary (issue 17, point 3): the class names the desktop app shows are the ones the
//! CSV/XLSX reports and the command line use (`OutcomeClass::label_en` / `label_zh`), in both
//! languages, so a reviewer reading a report finds the same words on screen.

use paydesk_core::OutcomeClass;
use std::path::Path;

fn ui_labels(lang: &str) -> serde_json::Value {
    ui_section(lang, "class")
}

fn ui_section(lang: &str, section: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ui/src/locales")
        .join(lang)
        .join("common.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let all: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    all[section].clone()
}

#[test]
fn the_app_and_the_reports_name_every_class_alike() {
    let (en, zh) = (ui_labels("en"), ui_labels("zh"));
    for class in OutcomeClass::ALL {
        assert_eq!(
            en[class.as_str()].as_str(),
            Some(class.label_en()),
            "English name of {class}"
        );
        assert_eq!(
            zh[class.as_str()].as_str(),
            Some(class.label_zh()),
            "Chinese name of {class}"
        );
    }
}

#[test]
fn the_app_and_the_reports_name_states_and_resolutions_alike() {
    use paydesk_core::{ResolutionKind, ReviewState};
    for lang in ["en", "zh"] {
        let states = ui_section(lang, "state");
        for s in [
            ReviewState::Open,
            ReviewState::Investigating,
            ReviewState::Resolved,
        ] {
            let want = if lang == "en" {
                s.label_en()
            } else {
                s.label_zh()
            };
            assert_eq!(
                states[s.as_str()].as_str(),
                Some(want),
                "{lang} {}",
                s.as_str()
            );
        }
        let resolutions = ui_section(lang, "resolution");
        for r in ResolutionKind::ALL {
            let want = if lang == "en" {
                r.label_en()
            } else {
                r.label_zh()
            };
            assert_eq!(
                resolutions[r.as_str()].as_str(),
                Some(want),
                "{lang} {}",
                r.as_str()
            );
        }
    }
}

#[test]
fn chinese_screens_say_差异_not_差错() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/locales/zh");
    for entry in std::fs::read_dir(&dir).expect("locales") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            !text.contains("差错"),
            "{} says 差错; the glossary's word is 差异",
            path.display()
        );
    }
}
