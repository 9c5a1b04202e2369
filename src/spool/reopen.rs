//! The spool's redb database, reopened after a failed write. redb refuses every transaction
//! after an I/O error (a full disk) until the file is closed and opened again; the agent must
//! instead resume by itself once space returns, so the next transaction does exactly that.

use std::path::PathBuf;
use std::sync::RwLock;

use redb::{
    Database, ReadTransaction, ReadableDatabase, StorageError, TransactionError, WriteTransaction,
};

use super::{SPOOL_CACHE_BYTES, SpoolError};

/// The database file, open or (after an I/O error) waiting to be opened again.
pub(super) struct Reopening {
    path: PathBuf,
    db: RwLock<Option<Database>>,
}

impl Reopening {
    pub(super) fn new(path: PathBuf, db: Database) -> Reopening {
        Reopening {
            path,
            db: RwLock::new(Some(db)),
        }
    }

    /// Opens the database file with the spool's settings.
    pub(super) fn open(path: &std::path::Path) -> Result<Database, redb::DatabaseError> {
        Database::builder()
            .set_cache_size(SPOOL_CACHE_BYTES)
            .create(path)
    }

    pub(super) fn begin_write(&self) -> Result<WriteTransaction, SpoolError> {
        self.begin(Database::begin_write)
    }

    pub(super) fn begin_read(&self) -> Result<ReadTransaction, SpoolError> {
        self.begin(Database::begin_read)
    }

    fn begin<T>(
        &self,
        start: impl Fn(&Database) -> Result<T, TransactionError>,
    ) -> Result<T, SpoolError> {
        {
            let db = self
                .db
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match db.as_ref().map(&start) {
                Some(Err(TransactionError::Storage(StorageError::PreviousIo))) | None => {}
                Some(other) => return other.map_err(|e| redb::Error::from(e).into()),
            }
        }
        self.reopen()?;
        let db = self
            .db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let db = db
            .as_ref()
            .ok_or_else(|| SpoolError::Reopen(self.path.clone()))?;
        start(db).map_err(|e| redb::Error::from(e).into())
    }

    /// After `error`: when redb refuses work because an earlier write failed, closes the
    /// database so that the next transaction opens the file again.
    pub(super) fn recover(&self, error: &SpoolError) {
        if matches!(error, SpoolError::Store(redb::Error::PreviousIo)) {
            let mut db = self
                .db
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            drop(db.take());
        }
    }

    /// Opens the file again after a failed write (redb recovers it to its last commit), unless
    /// it is open and well. Fails while a transaction of the old database is still alive; the
    /// caller retries.
    fn reopen(&self) -> Result<(), SpoolError> {
        let mut db = self
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(open) = db.as_ref()
            && !matches!(
                open.begin_read(),
                Err(TransactionError::Storage(StorageError::PreviousIo))
            )
        {
            return Ok(());
        }
        drop(db.take());
        tracing::warn!(file = %self.path.display(), "reopening the spool after a write error");
        *db = Some(Self::open(&self.path).map_err(|e| {
            tracing::warn!(error = %e, "cannot reopen the spool yet");
            SpoolError::Reopen(self.path.clone())
        })?);
        Ok(())
    }
}
