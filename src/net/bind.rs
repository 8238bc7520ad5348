//! Binding the listening socket, with errors that say what to do.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpListener, TcpSocket};

/// Why the listener could not start, phrased for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindError {
    pub port: u16,
    pub message: String,
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BindError {}

/// Binds `ip:port` with the given backlog. Must run inside a tokio runtime.
pub fn bind_listener(ip: IpAddr, port: u16, backlog: u32) -> Result<TcpListener, BindError> {
    let addr = SocketAddr::new(ip, port);
    let explain = |e: std::io::Error| {
        let message = match e.kind() {
            ErrorKind::AddrInUse => {
                format!("port {port} is taken by another program; choose another port")
            }
            ErrorKind::PermissionDenied => {
                format!("port {port} needs administrator rights; choose a port above 1023")
            }
            ErrorKind::AddrNotAvailable => format!(
                "{ip} is not an address of this machine; listen on 0.0.0.0 (all addresses) instead"
            ),
            _ => format!("cannot listen on {addr}: {e}"),
        };
        BindError { port, message }
    };
    let socket = match ip {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(explain)?;
    // Lets a restarted brigade take its port back while old connections sit in
    // TIME_WAIT; on Linux it does not let two listeners share a port.
    socket.set_reuseaddr(true).map_err(explain)?;
    // Accepted sockets inherit SO_LINGER 0 from the listener: a connection is born
    // closing with a reset, so a crash between accept and the connection's first step
    // can never look like a clean close (a delivery) to its sender. Only after its
    // messages are committed does a connection switch to a clean close.
    socket2::SockRef::from(&socket)
        .set_linger(Some(std::time::Duration::ZERO))
        .map_err(explain)?;
    socket.bind(addr).map_err(explain)?;
    socket.listen(backlog).map_err(explain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Before brigade does anything with an accepted connection, closing it resets.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn accepted_connections_are_born_with_a_reset_on_close() {
        let listener = bind_listener("127.0.0.1".parse().unwrap(), 0, 8).unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let linger = socket2::SockRef::from(&stream).linger().unwrap();
        assert_eq!(linger, Some(std::time::Duration::ZERO));
    }

    #[tokio::test]
    async fn a_taken_port_is_named() {
        let first = bind_listener("127.0.0.1".parse().unwrap(), 0, 8).unwrap();
        let port = first.local_addr().unwrap().port();
        let err = bind_listener("127.0.0.1".parse().unwrap(), port, 8).unwrap_err();
        assert_eq!(err.port, port);
        assert!(
            err.message.contains(&format!("port {port} is taken")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_foreign_address_is_explained() {
        // TEST-NET-1 is never assigned to a local interface.
        let err = bind_listener("192.0.2.1".parse().unwrap(), 0, 8).unwrap_err();
        assert!(
            err.message.contains("not an address of this machine"),
            "{err}"
        );
    }
}
