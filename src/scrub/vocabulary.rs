//! The scrubber's vocabulary: the key words, token prefixes and phrases that tell it where a
//! secret or a user name stands. Adding a token format is adding a line here.

/// Words that make a key secret wherever they stand in it (`DB_PASSWORD`, `client_secret`).
pub(super) const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "accesskey",
    "access-key",
    "private_key",
    "privatekey",
    "private-key",
    "credential",
    "session_id",
    "sessionid",
    "session-id",
    "signature",
    "community",
    "wachtwoord",
    "wachtzin",
    "toegangscode",
];
/// Short secret keys, taken only as whole words (`pwd=`, `sig=`).
pub(super) const EXACT_SECRET_KEYS: &[&str] = &["pwd", "pass", "sig", "sid", "otp"];
/// Token prefixes (case-sensitive) and how many token bytes must follow to take it whole.
pub(super) const PREFIXES: &[(&str, usize)] = &[
    ("AKIA", 16),
    ("ASIA", 16),
    ("ABIA", 16),
    ("ACCA", 16),
    ("ghp_", 30),
    ("gho_", 30),
    ("ghu_", 30),
    ("ghs_", 30),
    ("ghr_", 30),
    ("github_pat_", 22),
    ("glpat-", 16),
    ("glptt-", 16),
    ("glrt-", 16),
    ("gldt-", 16),
    ("glcbt-", 16),
    ("xoxb-", 10),
    ("xoxp-", 10),
    ("xoxa-", 10),
    ("xoxr-", 10),
    ("xoxs-", 10),
    ("xoxe.", 10),
    ("xapp-", 10),
    ("sk_live_", 16),
    ("sk_test_", 16),
    ("rk_live_", 16),
    ("rk_test_", 16),
    ("whsec_", 16),
    ("sk-ant-", 20),
    ("sk-proj-", 20),
    ("sk-", 32),
    ("AIza", 30),
    ("eyJ", 16),
    ("ops_", 16),
    ("ABSK", 32),
    ("EAA", 40),
    ("hvs.", 20),
    ("hvb.", 20),
    ("hvr.", 20),
    ("ntn_", 30),
    ("sgp_", 20),
    ("hf_", 30),
    ("api_org_", 30),
    ("npm_", 30),
    ("pypi-", 50),
    ("dop_v1_", 40),
    ("doo_v1_", 40),
    ("shpat_", 30),
    ("shpss_", 30),
    ("shpca_", 30),
    ("glc_", 30),
    ("glsa_", 30),
    ("dapi", 32),
    ("pul-", 40),
    ("rdme_", 60),
    ("sntrys_", 50),
    ("lin_api_", 40),
    ("s-s4t2ud-", 40),
    ("s-s4t2af-", 40),
];
/// Chat webhook URLs: the path after this is a credential.
pub(super) const SLACK_WEBHOOK: &str = "hooks.slack.com/";
/// Chat webhook URLs: the path after this, on one of [`WEBHOOK_HOSTS`], is a credential.
pub(super) const WEBHOOK_PATH: &str = "/api/webhooks/";
/// Hosts whose [`WEBHOOK_PATH`] holds a credential.
pub(super) const WEBHOOK_HOSTS: &[&str] = &["discord.com", "discordapp.com"];
/// Keys whose value is a user name, as whole words.
pub(super) const USER_KEYS: &[&str] = &[
    "user",
    "username",
    "user_name",
    "login",
    "uid",
    "euid",
    "ruser",
    "logname",
    "gebruiker",
    "gebruikersnaam",
    "inlognaam",
    "displayname",
    "display_name",
    "fullname",
    "full_name",
];
/// Keys whose value identifies a user, as the identifier's last word (`userId`,
/// `X-User-Id`, `customer_id`).
pub(super) const USER_ID_KEYS: &[&str] = &[
    "userid",
    "user_id",
    "user-id",
    "customerid",
    "customer_id",
    "customer-id",
    "accountid",
    "account_id",
    "memberid",
    "member_id",
    "gebruiker_id",
    "gebruikerid",
    "klant_id",
];
/// Short keys whose value identifies a user, as whole words (a token's `sub` claim).
pub(super) const EXACT_USER_ID_KEYS: &[&str] = &["sub"];
/// Log phrases followed by a user name.
pub(super) const USER_PHRASES: &[&str] = &[
    "invalid user ",
    "illegal user ",
    "for user ",
    "by user ",
    "of user ",
    "from user ",
    "authenticating user ",
    "changed for ",
    "password for ",
    "publickey for ",
    "none for ",
    "keyboard-interactive/pam for ",
    "hostbased for ",
    "gssapi-with-mic for ",
    "logged in as ",
    "login as ",
];
/// Words that stand between a key and its credential: `token=Bearer abc`.
pub(super) const SCHEMES: &[&str] = &[
    "bearer",
    "basic",
    "token",
    "digest",
    "negotiate",
    "ntlm",
    "api-token",
    "apikey",
    "hmac",
    "oauth",
    "sharedaccesssignature",
];
/// Cookie attributes, which are not values to hide.
pub(super) const COOKIE_ATTRIBUTES: &[&str] = &[
    "path", "domain", "expires", "max-age", "samesite", "priority",
];
