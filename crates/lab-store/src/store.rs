//! The store: the connection to `lab.db`, migrations on open, this
//! process's lease and the sweep of runs orphaned by dead processes. The
//! tables' operations live in one `impl Store` file per area.

use std::fs::File;
use std::path::PathBuf;

use rusqlite::{Connection, params};

use crate::home::LabHome;
use crate::migrations::migrate;
use crate::{Result, StoreError, now_ms};

/// The open store: a connection to `lab.db` and this process's lease. One
/// [`Store::open`] per process runs the migrations and takes the lease;
/// [`Store::connect`] gives further connections (one per thread) that share
/// it.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) home: LabHome,
    lease: std::sync::Arc<Lease>,
    pub(crate) lease_name: String,
}

/// This process's lease file, held (locked) while any connection lives.
struct Lease {
    path: PathBuf,
    _file: File,
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Our RUNNING runs (if any) stay RUNNING only while we live; the lease
        // file goes with us so the next process sees them as orphaned.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn connection(home: &LabHome) -> Result<Connection> {
    let conn = Connection::open(home.db_path())?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")?;
    Ok(conn)
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("home", &self.home.root())
            .finish()
    }
}

impl Store {
    /// Open (creating and migrating as needed) the store in `home`, take this
    /// process's lease, and mark runs orphaned by dead processes as failed.
    pub fn open(home: &LabHome) -> Result<Store> {
        let mut conn = connection(home)?;
        // WAL is a property of the database file: set once, kept by every
        // later connection.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "SQLite refused WAL; continuing in {mode} mode");
        }
        migrate(&mut conn)?;

        let locks = home.locks_dir();
        std::fs::create_dir_all(&locks)
            .map_err(|e| StoreError::io(format!("cannot create {}", locks.display()), e))?;
        let lease_name = format!(
            "{}-{}.lock",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let lease_path = locks.join(&lease_name);
        // Locked under a temporary name first, so no other process ever sees
        // this lease unlocked (and sweeps it as stale).
        let pending = locks.join(format!("{lease_name}.pending"));
        let lease = File::create(&pending)
            .map_err(|e| StoreError::io(format!("cannot create {}", pending.display()), e))?;
        lease
            .lock()
            .map_err(|e| StoreError::io(format!("cannot lock {}", pending.display()), e))?;
        std::fs::rename(&pending, &lease_path)
            .map_err(|e| StoreError::io(format!("cannot create {}", lease_path.display()), e))?;

        let store = Store {
            conn,
            home: home.clone(),
            lease: std::sync::Arc::new(Lease {
                path: lease_path,
                _file: lease,
            }),
            lease_name,
        };
        store.recover_orphans()?;
        Ok(store)
    }

    /// Another connection to the same store, for another thread: no
    /// migrations, no new lease (it shares this one), no orphan sweep.
    pub fn connect(&self) -> Result<Store> {
        Ok(Store {
            conn: connection(&self.home)?,
            home: self.home.clone(),
            lease: self.lease.clone(),
            lease_name: self.lease_name.clone(),
        })
    }

    /// A write transaction that takes SQLite's write lock at BEGIN
    /// (IMMEDIATE). A deferred transaction that reads first and writes later
    /// fails at once with "database is locked" when another process wrote in
    /// between (the busy timeout cannot help it); an immediate one waits its
    /// turn, so the CLI, the app and the tracking server can write together.
    pub(crate) fn write_tx(&self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)
    }

    pub fn home(&self) -> &LabHome {
        &self.home
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.db_path()
    }

    /// `PRAGMA integrity_check`; `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Runs left RUNNING by a process whose lease is no longer held are
    /// marked FAILED, with a tag saying why.
    fn recover_orphans(&self) -> Result<usize> {
        let mut stmt = self
            .conn
            .prepare("SELECT run_uuid, owner FROM runs WHERE status = 'RUNNING'")?;
        let running: Vec<(String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut recovered = 0;
        for (run_id, owner) in running {
            let alive = match owner.as_deref() {
                Some(o) if o == self.lease_name => true,
                // MLflow's client owns it and ends it; the lab does not.
                Some(crate::tracking::EXTERNAL_OWNER) => true,
                Some(o) => lease_is_held(&self.home.locks_dir().join(o)),
                None => false,
            };
            if alive {
                continue;
            }
            let now = now_ms();
            let tx = self.write_tx()?;
            let changed = tx.execute(
                "UPDATE runs SET status = 'FAILED', end_time = ?2, owner = NULL
                 WHERE run_uuid = ?1 AND status = 'RUNNING'",
                params![run_id, now],
            )?;
            if changed == 1 {
                tx.execute(
                    "INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?1, 'mlops.failure', ?2)",
                    params![
                        run_id,
                        "the process running this run ended before it finished (killed or crashed)"
                    ],
                )?;
                recovered += 1;
                tracing::warn!(run_id, "marked orphaned run as FAILED");
            }
            tx.commit()?;
            if let Some(o) = owner {
                let _ = std::fs::remove_file(self.home.locks_dir().join(o));
            }
        }
        // Leases of processes that died owning no run.
        if let Ok(entries) = std::fs::read_dir(self.home.locks_dir()) {
            for e in entries.flatten() {
                let path = e.path();
                let name = e.file_name();
                let name = name.to_string_lossy();
                let pending_too_long = name.ends_with(".pending")
                    && e.metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t.elapsed().is_ok_and(|d| d.as_secs() > 3600));
                let candidate = name.ends_with(".lock") || pending_too_long;
                if candidate && name != self.lease_name.as_str() && !lease_is_held(&path) {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        Ok(recovered)
    }
}

/// True when another process holds the lease at `path`.
fn lease_is_held(path: &std::path::Path) -> bool {
    match File::options().write(true).open(path) {
        Ok(f) => match f.try_lock() {
            Ok(()) => false,
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(std::fs::TryLockError::Error(_)) => false,
        },
        Err(_) => false,
    }
}
