use std::sync::Arc;

use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgQueryResult};

use super::{Backend, ConnectionInfo};
use crate::statement::Dialect;

impl Backend for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;

    fn connection_info(options: &PgConnectOptions) -> ConnectionInfo {
        let address = match options.get_socket() {
            Some(socket) => socket.to_string_lossy().into_owned(),
            None => options.get_host().to_string(),
        };
        ConnectionInfo {
            system: "postgresql",
            namespace: options.get_database().map(Arc::from),
            address: Some(Arc::from(address)),
            port: options.get_socket().is_none().then(|| options.get_port()),
        }
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}
