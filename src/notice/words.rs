//! The notice's words in English and Dutch. Sentences are written here, not copied from the
//! seed notice; only its facts (categories, purposes, consent, retention) shape them.

use crate::record::{Category, Purpose};
use crate::scrub::Detector;

/// The notice's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English.
    En,
    /// Dutch (Nederlands), the seed notice's language.
    Nl,
}

/// A phrase by key, in `lang`.
pub fn phrase(lang: Lang, key: &str) -> &'static str {
    let (en, nl) = match key {
        "revision" => ("Revision", "Versie"),
        "intro" => (
            "This notice is generated from the policy that the telemetry agent on this host enforces: what it says is what the agent does. Data no rule below allows is not collected.",
            "Deze verklaring is gemaakt uit het beleid dat de telemetrie-agent op deze computer uitvoert: wat hier staat, is wat de agent doet. Gegevens die geen regel hieronder toestaat, worden niet verzameld.",
        ),
        "what" => (
            "What is collected, and why",
            "Wat wordt verzameld, en waarom",
        ),
        "purpose" => ("Purpose", "Doel"),
        "kept" => ("Collected", "Verzameld"),
        "nothing_kept" => (
            "nothing but the record's own time and kind",
            "niets behalve het tijdstip en de soort van het record",
        ),
        "dropped" => ("Always removed", "Altijd verwijderd"),
        "pseudonymized" => (
            "Replaced by a keyed pseudonym (the key never leaves this host)",
            "Vervangen door een pseudoniem met een sleutel (die deze computer nooit verlaat)",
        ),
        "masked" => ("Masked", "Gemaskeerd"),
        "scrubbed" => ("Free text, scrubbed", "Vrije tekst, opgeschoond"),
        "events" => (
            "Events with another purpose",
            "Gebeurtenissen met een ander doel",
        ),
        "not_collected" => (
            "Not collected now: this purpose needs the customer's consent, which has not been given.",
            "Wordt nu niet verzameld: dit doel vraagt toestemming van de klant, en die is niet gegeven.",
        ),
        "scrub_title" => (
            "Personal data in free text",
            "Persoonsgegevens in vrije tekst",
        ),
        "scrub_pseudo" => (
            "Log lines and other free text are scrubbed before they are stored. What is found becomes a typed pseudonym such as [email:h:1f3a9c0d]; secrets always become [secret]. Looked for:",
            "Logregels en andere vrije tekst worden opgeschoond voordat ze worden opgeslagen. Wat gevonden wordt, wordt een getypeerd pseudoniem zoals [email:h:1f3a9c0d]; geheimen worden altijd [secret]. Er wordt gezocht naar:",
        ),
        "scrub_mask" => (
            "Log lines and other free text are scrubbed before they are stored. What is found is replaced by its kind, such as [email]; secrets become [secret]. Looked for:",
            "Logregels en andere vrije tekst worden opgeschoond voordat ze worden opgeslagen. Wat gevonden wordt, wordt vervangen door de soort, zoals [email]; geheimen worden [secret]. Er wordt gezocht naar:",
        ),
        "scrub_limits" => (
            "Not looked for: personal names in running text, street addresses, dates of birth, and national identification numbers other than the Dutch BSN.",
            "Niet gezocht naar: persoonsnamen in lopende tekst, adressen, geboortedata, en nationale identificatienummers anders dan het Nederlandse BSN.",
        ),
        "scrub_raw" => (
            "The administrator has chosen to send the free text of these categories without scrubbing it:",
            "De beheerder heeft ervoor gekozen de vrije tekst van deze categorieën zonder opschonen te versturen:",
        ),
        "scrub_off" => (
            "Free text is not scrubbed, so no category keeps free text.",
            "Vrije tekst wordt niet opgeschoond; geen categorie bewaart dus vrije tekst.",
        ),
        "where" => ("Where it goes", "Waar het naartoe gaat"),
        "to_collector" => (
            "Records are sent over an encrypted connection to",
            "Records worden via een versleutelde verbinding verzonden naar",
        ),
        "to_collector_plain" => (
            "Records are sent without encryption (on this host, or a network the administrator chose) to",
            "Records worden zonder versleuteling verzonden (op deze computer, of over een netwerk dat de beheerder koos) naar",
        ),
        "stays" => (
            "Records stay on this host; nothing is sent.",
            "Records blijven op deze computer; er wordt niets verzonden.",
        ),
        "retention" => ("How long it is kept", "Hoe lang het wordt bewaard"),
        "retention_line" => (
            "unsent records at most {pending} days; the local list of sent records {history} days",
            "niet-verzonden records hoogstens {pending} dagen; de lokale lijst van verzonden records {history} dagen",
        ),
        "consent" => ("Consent", "Toestemming"),
        "consent_given" => (
            "The customer has opted in to usage data. To withdraw, the administrator sets consent.usage = false and reloads the agent: unsent usage records are then deleted at once and the collector is told.",
            "De klant heeft toestemming gegeven voor gebruiksgegevens. Intrekken gaat door consent.usage = false te zetten en de agent te herladen: niet-verzonden gebruiksrecords worden dan direct verwijderd en de ontvanger wordt ingelicht.",
        ),
        "consent_not_given" => (
            "The customer has not opted in to usage data, so none is collected. Opting in is done by the administrator (consent.usage = true) and can be withdrawn the same way at any time.",
            "De klant heeft geen toestemming gegeven voor gebruiksgegevens, dus die worden niet verzameld. Toestemming geven doet de beheerder (consent.usage = true) en kan op dezelfde manier altijd worden ingetrokken.",
        ),
        "rights" => ("Your rights", "Uw rechten"),
        "rights_text" => (
            "You can ask for the records about you to be deleted. The administrator runs `noticed forget --subject VALUE`: matching records are removed here, and a deletion request carrying only the pseudonym is sent to the collector until it confirms.",
            "U kunt vragen de records over u te verwijderen. De beheerder voert `noticed forget --subject WAARDE` uit: overeenkomende records worden hier verwijderd, en een verwijderverzoek met alleen het pseudoniem wordt naar de ontvanger gestuurd tot die het bevestigt.",
        ),
        "contact" => ("Contact", "Contact"),
        _ => ("", ""),
    };
    match lang {
        Lang::En => en,
        Lang::Nl => nl,
    }
}

/// A category's name.
pub fn category(lang: Lang, c: Category) -> &'static str {
    let (en, nl) = match c {
        Category::Configuration => ("Configuration data", "Configuratiegegevens"),
        Category::FeatureUsage => (
            "Feature-usage data",
            "Gegevens over het gebruik van functies",
        ),
        Category::Performance => ("Performance data", "Prestatiegegevens"),
        Category::ServiceLogs => ("Service logs", "Servicelogboeken"),
        Category::Diagnostics => ("Diagnostic data", "Diagnostische gegevens"),
        Category::Support => ("Support data", "Ondersteuningsgegevens"),
        Category::Survey => ("Survey answers", "Enquêteantwoorden"),
        Category::Authentication => (
            "Authentication and access data",
            "Authenticatie- en toegangsgegevens",
        ),
    };
    match lang {
        Lang::En => en,
        Lang::Nl => nl,
    }
}

/// A purpose in words.
pub fn purpose(lang: Lang, p: Purpose) -> &'static str {
    let (en, nl) = match p {
        Purpose::Usage => (
            "usage: improving the product and understanding how it is used (only with consent)",
            "gebruik: het product verbeteren en begrijpen hoe het wordt gebruikt (alleen met toestemming)",
        ),
        Purpose::ServiceOperational => (
            "service operation: delivering, supporting and securing the service",
            "dienstverlening: de dienst leveren, ondersteunen en beveiligen",
        ),
    };
    match lang {
        Lang::En => en,
        Lang::Nl => nl,
    }
}

/// A detector in words.
pub fn detector(lang: Lang, d: Detector) -> &'static str {
    let (en, nl) = match d {
        Detector::Email => ("e-mail addresses", "e-mailadressen"),
        Detector::Ipv4 => ("IPv4 addresses", "IPv4-adressen"),
        Detector::Ipv6 => ("IPv6 addresses", "IPv6-adressen"),
        Detector::Mac => ("MAC addresses", "MAC-adressen"),
        Detector::Secret => (
            "passwords, tokens and keys",
            "wachtwoorden, tokens en sleutels",
        ),
        Detector::UrlCredentials => ("credentials in URLs", "inloggegevens in URL's"),
        Detector::CreditCard => ("payment card numbers", "betaalkaartnummers"),
        Detector::UserName => ("user names", "gebruikersnamen"),
        Detector::Iban => ("bank account numbers (IBAN)", "bankrekeningnummers (IBAN)"),
        Detector::NationalId => (
            "national identification numbers (BSN)",
            "burgerservicenummers (BSN)",
        ),
        Detector::Phone => ("telephone numbers", "telefoonnummers"),
        Detector::Gps => ("GPS coordinates", "GPS-coördinaten"),
        Detector::HomePath => (
            "user names in home directory paths",
            "gebruikersnamen in paden van thuismappen",
        ),
        Detector::Hostname => ("host names", "hostnamen"),
        Detector::UserId => ("user identifiers", "gebruikers-ID's"),
        Detector::Pattern => (
            "a pattern set by the administrator",
            "een patroon van de beheerder",
        ),
    };
    match lang {
        Lang::En => en,
        Lang::Nl => nl,
    }
}
