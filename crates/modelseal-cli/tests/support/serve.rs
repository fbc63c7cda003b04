//! The `modelseal serve` harness of the server tests: a server on loopback with system-chosen
//! ports and JSON logs, its log events, HTTP requests to it, SIGTERM; test images and requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// The committed tiny segmentation model (`seg_argmax` of modelseal-deploy's test data), a plain
/// directory the tract backend serves.
pub fn seg_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../modelseal-deploy/tests/data/seg_argmax")
}

/// A 24-bit BMP of `w` x `h` pixels (a gradient), written by hand.
pub fn bmp(w: u32, h: u32) -> Vec<u8> {
    let row = (w * 3).div_ceil(4) * 4;
    let size = 54 + row * h;
    let mut b = Vec::with_capacity(size as usize);
    b.extend_from_slice(b"BM");
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&54u32.to_le_bytes());
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&(w as i32).to_le_bytes());
    b.extend_from_slice(&(h as i32).to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&24u16.to_le_bytes());
    b.extend_from_slice(&[0; 24]);
    for y in 0..h {
        for x in 0..w {
            b.extend_from_slice(&[(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8]);
        }
        b.resize(b.len() + (row - w * 3) as usize, 0);
    }
    b
}

/// A running `modelseal serve`: its process, HTTP port and log events (JSON values; a line that
/// is not JSON as a string).
pub struct Server {
    /// The server process.
    pub child: Child,
    port: u16,
    events: mpsc::Receiver<Value>,
    /// The events read so far.
    pub seen: Vec<Value>,
}

/// `modelseal serve` on loopback with system-chosen ports and JSON logs, on `backend`, with no
/// key in its environment but what `envs` adds.
pub fn serve_command(backend: &str, args: &[&str], envs: &[(&str, &str)]) -> Command {
    serve_command_with(&[], backend, args, envs)
}

/// [`serve_command`] with `modelseal`'s global flags (`-v`, `-q`) before `serve`.
pub fn serve_command_with(
    global: &[&str],
    backend: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Command {
    let mut cmd = super::command(super::MODELSEAL, global);
    cmd.args([
        "serve",
        "--backend",
        backend,
        "--http-port",
        "0",
        "--grpc-port",
        "0",
        "--log-format",
        "json",
    ])
    .args(args)
    .env_remove("MODELSEAL_LOG")
    .env_remove("RUST_LOG")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

impl Server {
    /// A server on the tract backend.
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Result<Server, (i32, String)> {
        Server::launch(serve_command("tract", args, envs))
    }

    /// Starts `cmd` (a [`serve_command`]) and waits for its `listening` event; on failure, the
    /// exit code and the log.
    pub fn launch(mut cmd: Command) -> Result<Server, (i32, String)> {
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let v = serde_json::from_str(&line).unwrap_or(Value::String(line));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(v) => {
                    let listening = v["message"] == "listening";
                    seen.push(v);
                    if listening {
                        let port = seen.last().unwrap()["http_port"].as_u64().unwrap() as u16;
                        return Ok(Server {
                            child,
                            port,
                            events: rx,
                            seen,
                        });
                    }
                }
                Err(_) => {
                    let status = child.wait().unwrap();
                    let text: Vec<String> = seen.iter().map(|v| v.to_string()).collect();
                    return Err((status.code().unwrap_or(-1), text.join("\n")));
                }
            }
        }
    }

    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        // A refused body may close the connection before it is all sent: that is fine here.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header block");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let hdrs = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        (status, hdrs, raw[split + 4..].to_vec())
    }

    pub fn json(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let b = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let (status, _, out) = self.http(
            method,
            path,
            &[("content-type", "application/json".into())],
            &b,
        );
        (status, serde_json::from_slice(&out).unwrap_or(Value::Null))
    }

    /// The first log event (seen already or arriving within `timeout`) for which `pred` holds.
    pub fn wait_for(&mut self, pred: impl Fn(&Value) -> bool, timeout: Duration) -> Option<Value> {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return Some(v.clone());
        }
        let deadline = std::time::Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            let Ok(v) = self.events.recv_timeout(left) else {
                break;
            };
            self.seen.push(v.clone());
            if pred(&v) {
                return Some(v);
            }
        }
        None
    }

    /// SIGTERM, then the exit code and the `stopped` event.
    pub fn stop(self) -> (i32, Value) {
        let (code, log) = self.stop_with_log();
        let stopped = log
            .into_iter()
            .rfind(|v| v["message"] == "stopped")
            .unwrap_or(Value::Null);
        (code, stopped)
    }

    /// SIGTERM, then the exit code and every log event of the server, to its end.
    pub fn stop_with_log(mut self) -> (i32, Vec<Value>) {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        let mut log = std::mem::take(&mut self.seen);
        // The reader ends at the end of the server's stderr.
        while let Ok(v) = self.events.recv_timeout(Duration::from_secs(10)) {
            log.push(v);
        }
        (code, log)
    }
}

pub fn image_request(images: &[Vec<u8>]) -> Value {
    use base64::Engine;
    let data: Vec<String> = images
        .iter()
        .map(|i| base64::engine::general_purpose::STANDARD.encode(i))
        .collect();
    json!({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [images.len()], "data": data}]})
}
