//! The page texts in Danish (the default) and English. Rule titles, fixes and problem
//! reasons come from the intake crate, the same as `hcount validate` prints.

use std::collections::BTreeMap;

/// (key, Danish, English)
const TEXTS: &[(&str, &str, &str)] = &[
    (
        "app",
        "Hjemløsetælling – indsendelse",
        "Homelessness count – inbox",
    ),
    ("switch", "English", "Dansk"),
    ("signin_title", "Log ind", "Sign in"),
    (
        "signin_help",
        "Skriv den kode, I har fået til jeres enhed (eller koordinatorens kode).",
        "Enter the code your unit was given (or the coordinator's code).",
    ),
    ("token", "Kode", "Code"),
    ("signin", "Log ind", "Sign in"),
    ("signout", "Log ud", "Sign out"),
    ("unit", "Enhed", "Unit"),
    ("respondent_type", "Respondenttype", "Respondent type"),
    ("municipality", "Kommune", "Municipality"),
    ("region", "Region", "Region"),
    ("upload_title", "Indsend skemaer", "Send your forms"),
    (
        "upload_help",
        "Vælg en CSV- eller .xlsx-fil med én række pr. person. En ny fil erstatter jeres tidligere indsendelse; den gamle gemmes i historikken. Filen gemmes ikke: CPR-numre erstattes af pseudonymer med det samme.",
        "Choose a CSV or .xlsx file with one row per person. A new file replaces your earlier submission; the old one stays in the history. The file itself is not kept: CPR numbers are replaced by pseudonyms at once.",
    ),
    ("file", "Fil", "File"),
    ("send", "Send", "Send"),
    (
        "none_title",
        "Ingen hjemløse denne uge",
        "No homeless persons this week",
    ),
    (
        "none_help",
        "Har I ikke mødt nogen hjemløse personer i tælleugen, så svar her. Det erstatter en tidligere indsendelse.",
        "If you met no homeless persons in the count week, answer here. It replaces an earlier submission.",
    ),
    (
        "none_button",
        "Vi har ingen hjemløse personer denne uge",
        "We have no homeless persons this week",
    ),
    ("history", "Historik", "History"),
    (
        "no_history",
        "I har ikke indsendt noget endnu.",
        "You have not sent anything yet.",
    ),
    ("when", "Tidspunkt (UTC)", "Time (UTC)"),
    ("what", "Hvad", "What"),
    ("kind_upload", "Fil", "File"),
    ("kind_none", "Ingen hjemløse", "No homeless persons"),
    (
        "kind_held",
        "Venter på bekræftelse",
        "Waiting for confirmation",
    ),
    ("read", "Læst", "Read"),
    ("accepted", "Godkendt", "Accepted"),
    ("rejected", "Afvist", "Rejected"),
    ("warnings", "Advarsler", "Warnings"),
    ("current", "Gælder nu", "Counts now"),
    ("details", "Vis", "Show"),
    (
        "result_title",
        "Resultat af indsendelsen",
        "Result of your submission",
    ),
    ("stored", "Modtaget og gemt.", "Received and stored."),
    (
        "all_accepted",
        "Alle rækker er godkendt.",
        "All rows were accepted.",
    ),
    (
        "fix_and_resend",
        "Ret de afviste rækker i jeres fil og send hele filen igen; den erstatter denne.",
        "Correct the rejected rows in your file and send the whole file again; it replaces this one.",
    ),
    ("problems", "Problemer", "Problems"),
    ("rule", "Regel", "Rule"),
    ("times", "Antal", "Count"),
    ("fix", "Sådan retter I", "How to fix"),
    ("line", "Linje", "Line"),
    ("column", "Kolonne", "Column"),
    ("value", "Værdi", "Value"),
    ("reason", "Årsag", "Reason"),
    ("severity_error", "afvist", "rejected"),
    ("severity_warning", "advarsel", "warning"),
    (
        "held_title",
        "Indsendelsen venter på jeres bekræftelse",
        "Your submission waits for your confirmation",
    ),
    (
        "held_help",
        "Den nye fil har langt færre personer end jeres tidligere indsendelse. Er det rigtigt, så bekræft; ellers send den rigtige fil.",
        "The new file has far fewer persons than your earlier submission. If that is right, confirm; otherwise send the right file.",
    ),
    (
        "earlier_persons",
        "Personer i jeres tidligere indsendelse",
        "Persons in your earlier submission",
    ),
    (
        "kept",
        "Af dem også i den nye fil",
        "Of them also in the new file",
    ),
    (
        "confirm",
        "Ja, erstat den tidligere indsendelse",
        "Yes, replace the earlier submission",
    ),
    ("back", "Tilbage", "Back"),
    (
        "refused_title",
        "Filen blev ikke modtaget",
        "The file was not received",
    ),
    ("version_title", "Indsendelse", "Submission"),
    (
        "coord_title",
        "Koordinator: svar i tællingen",
        "Coordinator: responses to the count",
    ),
    ("asked", "Spurgt", "Asked"),
    ("answered", "Svaret", "Answered"),
    (
        "answered_none",
        "Heraf: ingen hjemløse",
        "Of which: no homeless persons",
    ),
    ("not_answered", "Mangler", "Missing"),
    ("rate", "Svarprocent", "Response rate"),
    ("rows_accepted", "Rækker godkendt", "Rows accepted"),
    ("rows_rejected", "Rækker afvist", "Rows rejected"),
    ("last_upload", "Seneste indsendelse", "Last upload"),
    ("by_type", "Efter respondenttype", "By respondent type"),
    ("by_region", "Efter region", "By region"),
    ("by_municipality", "Efter kommune", "By municipality"),
    (
        "outstanding",
        "Enheder med afviste rækker, der ikke er rettet",
        "Units with rejected rows outstanding",
    ),
    (
        "missing_units",
        "Enheder, der ikke har svaret",
        "Units that have not answered",
    ),
    ("all_units", "Alle enheder", "All units"),
    ("download_csv", "Hent som CSV", "Download as CSV"),
    ("yes", "ja", "yes"),
    ("no", "nej", "no"),
    ("none_yet", "ingen", "none"),
    ("restore", "Gendan denne version", "Restore this version"),
    (
        "restored",
        "Versionen er gendannet og gælder nu.",
        "The version was restored and counts now.",
    ),
    ("total", "I alt", "Total"),
    ("status_code", "Fejl", "Error"),
];

/// The texts of one language, for the templates (`{{ t.signin }}`).
pub fn texts(da: bool) -> BTreeMap<&'static str, &'static str> {
    TEXTS
        .iter()
        .map(|(k, d, e)| (*k, if da { *d } else { *e }))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_once_and_both_languages_filled() {
        let mut seen = std::collections::BTreeSet::new();
        for (k, d, e) in super::TEXTS {
            assert!(seen.insert(k), "{k} twice");
            assert!(!d.is_empty() && !e.is_empty(), "{k}");
        }
    }
}
