use std::sync::Arc;

use futures_core::future::BoxFuture;
use sqlx::MySql;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlQueryResult};

use super::{Backend, ConnectionInfo};
use crate::statement::Dialect;

impl Backend for MySql {
    const DIALECT: Dialect = Dialect::MySql;
    const DETECTS_SYSTEM: bool = true;

    fn connection_info(options: &MySqlConnectOptions) -> ConnectionInfo {
        let address = match options.get_socket() {
            Some(socket) => socket.to_string_lossy().into_owned(),
            None => options.get_host().to_string(),
        };
        ConnectionInfo {
            system: "mysql",
            namespace: options.get_database().map(Arc::from),
            address: Some(Arc::from(address)),
            port: options.get_socket().is_none().then(|| options.get_port()),
        }
    }

    fn rows_affected(result: &MySqlQueryResult) -> u64 {
        result.rows_affected()
    }

    /// `mariadb` when `SELECT VERSION()` mentions MariaDB, else `mysql`.
    fn detect_system(conn: &mut MySqlConnection) -> BoxFuture<'_, Option<&'static str>> {
        Box::pin(async move {
            match sqlx::query_scalar::<_, String>("SELECT VERSION()")
                .fetch_one(&mut *conn)
                .await
            {
                Ok(v) if v.to_ascii_lowercase().contains("mariadb") => Some("mariadb"),
                Ok(_) => Some("mysql"),
                Err(_) => {
                    otel_rpc::count_swallowed_error();
                    None
                }
            }
        })
    }
}
