//! Proxies (issue 11, "the key in clear to a proxy"): a loopback base URL
//! never goes through one, an https base URL honours the environment and the
//! `proxy` option. One test: it sets proxy variables for the whole process.

mod common;

use std::time::Duration;

use common::scripted::FakeProxy;
use common::Env;
use parsec_teams::*;

#[tokio::test]
async fn loopback_never_goes_through_a_proxy_and_https_honours_proxy_settings() {
    let env = Env::start().await;
    let proxy = FakeProxy::start().await;
    for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        std::env::set_var(var, &proxy.url);
    }
    for var in ["NO_PROXY", "no_proxy"] {
        std::env::remove_var(var);
    }

    // Loopback: the calls work and the proxy sees nothing, from the environment or the option.
    env.client_with(env.options()).members().get(3).await.unwrap();
    env.client_with(env.options().proxy(proxy.url.clone())).members().get(3).await.unwrap();
    let admin = AdminClient::new(
        AdminClientOptions::new().base_url(env.mock.base_url()).token(env.mock.admin_token()).proxy(proxy.url.clone()).max_retries(0),
    )
    .unwrap();
    admin.caller().call(&spec::ADMIN_TEAMS_LIST, Default::default()).await.unwrap();
    let localhost = env.mock.base_url().replace("127.0.0.1", "localhost");
    env.client_with(env.options().base_url(localhost)).members().get(3).await.unwrap();
    env.client.with_own_connection().unwrap().members().get(3).await.unwrap();
    assert!(proxy.seen().is_empty(), "a loopback call went through the proxy: {:?}", proxy.seen());
    assert_eq!(env.seen("GET", "/members/3").await.len(), 4);

    // https: the environment's HTTPS_PROXY is used (a CONNECT, never the request in clear) ...
    let remote = |opts: ClientOptions| {
        Client::new(opts.api_key("tapi_team1.secret").base_url("https://api.parsec.example").timeout(Duration::from_secs(2)).max_retries(0))
            .unwrap()
    };
    let e = remote(ClientOptions::new()).members().get(3).await.unwrap_err();
    assert!(e.kind() == ErrorKind::Connection || e.kind() == ErrorKind::Timeout, "{e}");
    assert_eq!(proxy.seen(), vec!["CONNECT api.parsec.example:443".to_owned()]);
    // A client with its own connection keeps the pool where a proxy may apply.
    let _ = remote(ClientOptions::new()).with_own_connection().unwrap().members().get(3).await.unwrap_err();
    assert_eq!(proxy.seen(), vec!["CONNECT api.parsec.example:443".to_owned(); 2]);

    // ... and so is the option, over the environment.
    let other = FakeProxy::start().await;
    let _ = remote(ClientOptions::new().proxy(other.url.clone())).members().get(3).await.unwrap_err();
    assert_eq!(other.seen(), vec!["CONNECT api.parsec.example:443".to_owned()]);
    let _ = remote(ClientOptions::new().proxy(other.url.clone())).with_own_connection().unwrap().members().get(3).await.unwrap_err();
    assert_eq!(other.seen().len(), 2);
    assert_eq!(proxy.seen().len(), 2);

    // NO_PROXY exempts the host (the direct connection then fails: there is no network).
    std::env::set_var("NO_PROXY", "api.parsec.example");
    let _ = remote(ClientOptions::new()).members().get(3).await.unwrap_err();
    assert_eq!(proxy.seen().len(), 2, "{:?}", proxy.seen());

    // A bad proxy value is a validation error that does not echo it (it may hold a password).
    let e = Client::new(ClientOptions::new().api_key("tapi_t.k").base_url("https://api.parsec.example").proxy("ftp://u:hunter2@x"))
        .unwrap_err();
    assert_eq!((e.kind(), e.field()), (ErrorKind::Validation, Some("proxy")));
    assert!(!e.to_string().contains("hunter2"), "{e}");
    let e = Client::new(ClientOptions::new().api_key("tapi_t.k").base_url("https://api.parsec.example").proxy("not a url")).unwrap_err();
    assert_eq!(e.field(), Some("proxy"));
}
