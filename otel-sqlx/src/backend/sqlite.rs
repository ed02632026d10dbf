use std::sync::Arc;

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteQueryResult};

use super::{Backend, ConnectionInfo};
use crate::statement::Dialect;

impl Backend for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;

    fn connection_info(options: &SqliteConnectOptions) -> ConnectionInfo {
        let path = options.get_filename();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_string_lossy().into_owned());
        ConnectionInfo {
            system: "sqlite",
            namespace: (!name.is_empty()).then(|| Arc::from(name)),
            address: None,
            port: None,
        }
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}
