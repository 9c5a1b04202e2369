//! A loopback HTTP/1.1 proxy that forwards each request to the collector but, for the first N
//! requests, closes the connection instead of passing the response back: the collector has
//! stored the batch, the agent never hears so. That is a lost acknowledgement, for real.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The proxy; it runs until the test process ends.
pub struct LosingProxy {
    /// Where agents should send.
    pub addr: SocketAddr,
    forwarded: Arc<AtomicUsize>,
}

impl LosingProxy {
    /// Forwards to `upstream`, losing the responses to the first `lose` requests.
    pub fn start(upstream: SocketAddr, lose: usize) -> LosingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let forwarded = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&forwarded);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let count = Arc::clone(&count);
                std::thread::spawn(move || serve(client, upstream, lose, &count));
            }
        });
        LosingProxy { addr, forwarded }
    }

    /// The batch URL through the proxy.
    pub fn endpoint(&self) -> String {
        format!("http://{}/v1/batches", self.addr)
    }

    /// Requests forwarded to the collector so far.
    pub fn forwarded(&self) -> usize {
        self.forwarded.load(Ordering::SeqCst)
    }
}

fn serve(client: TcpStream, upstream: SocketAddr, lose: usize, count: &AtomicUsize) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    while let Some(request) = read_message(&mut reader) {
        let mut up = TcpStream::connect(upstream).unwrap();
        up.write_all(&request).unwrap();
        let Some(response) = read_message(&mut BufReader::new(up)) else {
            return;
        };
        if count.fetch_add(1, Ordering::SeqCst) < lose {
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        if client.write_all(&response).is_err() {
            return;
        }
    }
}

/// Reads one HTTP/1.1 message (head and Content-Length body); `None` at end of stream.
fn read_message(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut msg = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        msg.extend_from_slice(line.as_bytes());
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).ok()?;
    msg.extend_from_slice(&body);
    Some(msg)
}
