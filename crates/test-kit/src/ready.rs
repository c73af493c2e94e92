//! Waiting, with a timeout, until a started process says where it listens or answers.

use std::time::Duration;

use anyhow::{anyhow, bail};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::time::Instant;

/// How often [`wait_healthy`] asks again.
const POLL: Duration = Duration::from_millis(50);

/// Reads a process's `stdout` line by line until one starts with `prefix` (such as
/// `"play-emulator listening on "`) and returns the first word after it, the URL. The lines
/// after it are read and dropped in a task so that the process never blocks on a full pipe.
/// Fails when the output ends first (the process exited) or after `timeout`.
pub async fn announced_url<R>(stdout: R, prefix: &str, timeout: Duration) -> anyhow::Result<String>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + timeout;
    let url = loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .map_err(|_| anyhow!("no line starting {prefix:?} within {timeout:?}"))??
            .ok_or_else(|| anyhow!("the output ended before a line starting {prefix:?}"))?;
        if let Some(rest) = line.strip_prefix(prefix) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(url)
}

/// Asks `GET url` every 50 ms until it answers a 2xx status, for at most `timeout`. Before
/// each try `exited` is asked whether the process ended (`Some(how)`, such as its exit
/// status), which fails at once rather than at the timeout.
pub async fn wait_healthy(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
    mut exited: impl FnMut() -> Option<String>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(how) = exited() {
            bail!("exited ({how}) before {url} answered");
        }
        let answered = http.get(url).timeout(Duration::from_secs(2)).send().await;
        if answered.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{url} did not answer within {timeout:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use std::process::Stdio;

    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;
    use tokio::process::Command;

    use super::*;

    fn sh(script: &str) -> tokio::process::Child {
        Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    }

    #[tokio::test]
    async fn the_url_after_the_prefix_and_the_rest_drained() {
        let mut child = sh(
            "echo starting; echo 'x listening on http://127.0.0.1:9 (pid 1)'; \
                            seq 1 100000; echo done",
        );
        let stdout = child.stdout.take().unwrap();
        let url = announced_url(stdout, "x listening on ", Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(url, "http://127.0.0.1:9");
        // The 100,000 lines after it are drained, so the process gets to its end.
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .expect("the process is not blocked on its pipe")
            .unwrap();
        assert!(status.success());
    }

    #[tokio::test]
    async fn output_that_ends_or_stalls_is_an_error() {
        let mut ended = sh("echo nothing here");
        let err = announced_url(
            ended.stdout.take().unwrap(),
            "x listening on ",
            Duration::from_secs(30),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("ended"), "{err}");

        let mut silent = sh("sleep 30");
        let started = Instant::now();
        let err = announced_url(
            silent.stdout.take().unwrap(),
            "x listening on ",
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("within"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// A server that answers `status` to every request after `after` connections refused
    /// by closing them unanswered.
    async fn server(status: u16, mut after: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/healthz", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                if after > 0 {
                    after -= 1;
                    continue;
                }
                let mut request = [0u8; 1024];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        url
    }

    /// A client like the suites' (reqwest is built without a TLS provider of its own).
    fn http() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    #[tokio::test]
    async fn healthy_after_a_few_refusals() {
        let http = http();
        let url = server(200, 3).await;
        wait_healthy(&http, &url, Duration::from_secs(30), || None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_error_status_times_out_and_an_exit_fails_at_once() {
        let http = http();
        let url = server(503, 0).await;
        let err = wait_healthy(&http, &url, Duration::from_millis(300), || None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("did not answer"), "{err}");

        let started = Instant::now();
        let err = wait_healthy(&http, &url, Duration::from_secs(60), || {
            Some("exit status: 3".into())
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("exit status: 3"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
