//! The household panel streamed to its file year by year (`xiezuo run --panel`): a
//! [`StreamingRecorder`] keeps every other table in a [`TableRecorder`] and writes each
//! year-end's households as soon as the engine reports them, in chunks of
//! [`CHUNK`] households (one Parquet row group or CSV batch each), so that memory does not
//! grow with the panel. The file is written under a temporary name and renamed by
//! [`PanelStream::finish`]; [`PanelStream::abort`] (or dropping the stream) removes it.

use std::fs;
use std::path::{Path, PathBuf};

use polars::io::csv::write::BatchedWriter as CsvBatched;
use polars::io::parquet::write::BatchedWriter as ParquetBatched;
use polars::prelude::*;

use crate::model::agents::household::Household;
use crate::model::config::Config;
use crate::model::flows::Channel;
use crate::model::ledger::Ledger;
use crate::model::metrics::{Measures, Scope, SystemMeasures};
use crate::model::recorder::{LinkReport, MarketReport, Recorder};
use crate::model::time::Tick;
use crate::output::recorder::PanelRows;
use crate::output::{panel_frame, Format, OutputError, TableRecorder};

/// Households per written chunk (row group).
pub const CHUNK: usize = 1 << 18;

enum Writer {
    Parquet(Box<ParquetBatched<fs::File>>),
    Csv(CsvBatched<fs::File>),
}

/// The panel file being written: `dir/.households.EXT.PID.tmp` until [`PanelStream::finish`].
pub struct PanelStream {
    writer: Option<Writer>,
    tmp: PathBuf,
    path: PathBuf,
    rows: PanelRows,
    chunk: usize,
}

impl PanelStream {
    /// Opens the temporary panel file in `dir` (which must exist).
    pub fn create(dir: &Path, cfg: &Config, format: Format) -> Result<PanelStream, OutputError> {
        let path = dir.join(format!("households.{}", format.ext()));
        let tmp = dir.join(format!(
            ".households.{}.{}.tmp",
            format.ext(),
            std::process::id()
        ));
        let table = |e| OutputError::Table {
            path: path.clone(),
            source: e,
        };
        // The schema is that of the panel frame (an empty one has the same columns).
        let schema = panel_frame(cfg, &PanelRows::default())
            .map_err(table)?
            .schema()
            .as_ref()
            .clone();
        let file = fs::File::create(&tmp).map_err(|e| OutputError::Io {
            path: tmp.clone(),
            source: e,
        })?;
        let writer = match format {
            Format::Parquet => ParquetWriter::new(file)
                .batched(&schema)
                .map(|w| Writer::Parquet(Box::new(w))),
            Format::Csv => CsvWriter::new(file).batched(&schema).map(Writer::Csv),
        };
        let writer = match writer {
            Ok(w) => w,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(table(e));
            }
        };
        Ok(PanelStream {
            writer: Some(writer),
            tmp,
            path,
            rows: PanelRows::default(),
            chunk: CHUNK,
        })
    }

    /// Writes `n` households per chunk instead of [`CHUNK`] (at least 1).
    pub fn with_chunk(mut self, n: usize) -> PanelStream {
        self.chunk = n.max(1);
        self
    }

    /// Writes the households of year-end tick `t`, chunk by chunk.
    pub fn write(
        &mut self,
        cfg: &Config,
        t: Tick,
        households: &[Household],
    ) -> Result<(), OutputError> {
        let size = self.chunk;
        for (c, chunk) in households.chunks(size).enumerate() {
            self.rows = PanelRows::default();
            let p = &mut self.rows;
            for (i, h) in chunk.iter().enumerate() {
                p.tick.push(t);
                p.household.push((c * size + i) as u32);
                p.region.push(h.region);
                p.status.push(h.status);
                p.flags.push(h.flags);
                p.income.push(h.trailing);
                p.last_exit.push(h.last_exit);
            }
            let df = panel_frame(cfg, &self.rows).map_err(|e| self.table(e))?;
            let res = match self.writer.as_mut() {
                Some(Writer::Parquet(w)) => w.write_batch(&df),
                Some(Writer::Csv(w)) => w.write_batch(&df),
                None => Ok(()),
            };
            res.map_err(|e| self.table(e))?;
        }
        self.rows = PanelRows::default();
        Ok(())
    }

    /// Closes the file and gives it its name; returns the path.
    pub fn finish(mut self) -> Result<PathBuf, OutputError> {
        let res = match self.writer.take() {
            Some(Writer::Parquet(w)) => w.finish().map(|_| ()),
            Some(Writer::Csv(mut w)) => w.finish(),
            None => Ok(()),
        };
        res.map_err(|e| self.table(e))?;
        fs::rename(&self.tmp, &self.path).map_err(|e| OutputError::Io {
            path: self.path.clone(),
            source: e,
        })?;
        Ok(self.path.clone())
    }

    /// Removes the temporary file.
    pub fn abort(mut self) {
        self.writer = None;
        let _ = fs::remove_file(&self.tmp);
    }

    fn table(&self, e: PolarsError) -> OutputError {
        OutputError::Table {
            path: self.path.clone(),
            source: e,
        }
    }
}

impl Drop for PanelStream {
    fn drop(&mut self) {
        // Not finished (an error, a panic or `abort`): leave nothing behind.
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A recorder that keeps the tables of a run in memory ([`TableRecorder`], without the
/// panel) and streams the panel to a [`PanelStream`]. A write error stops further panel
/// writes and is kept for [`StreamingRecorder::into_parts`].
pub struct StreamingRecorder<'a> {
    /// The other tables.
    pub tables: TableRecorder,
    cfg: &'a Config,
    stream: PanelStream,
    error: Option<OutputError>,
}

impl<'a> StreamingRecorder<'a> {
    /// A recorder for `cfg` streaming the panel into `stream`.
    pub fn new(cfg: &'a Config, stream: PanelStream) -> StreamingRecorder<'a> {
        StreamingRecorder {
            tables: TableRecorder::new(cfg, false),
            cfg,
            stream,
            error: None,
        }
    }

    /// The tables, and the panel stream or the first error writing it.
    pub fn into_parts(self) -> (TableRecorder, Result<PanelStream, OutputError>) {
        match self.error {
            Some(e) => (self.tables, Err(e)),
            None => (self.tables, Ok(self.stream)),
        }
    }
}

impl Recorder for StreamingRecorder<'_> {
    fn measures(&mut self, t: Tick, scope: Scope, m: &Measures, sys: Option<&SystemMeasures>) {
        self.tables.measures(t, scope, m, sys);
    }
    fn flow(&mut self, t: Tick, link: usize, channel: Channel, amount: f64) {
        self.tables.flow(t, link, channel, amount);
    }
    fn link(&mut self, t: Tick, link: usize, r: &LinkReport) {
        self.tables.link(t, link, r);
    }
    fn market(&mut self, t: Tick, region: usize, r: &MarketReport) {
        self.tables.market(t, region, r);
    }
    fn accounts(&mut self, t: Tick, ledger: &Ledger) {
        self.tables.accounts(t, ledger);
    }
    fn wants_distribution(&self, t: Tick) -> bool {
        self.tables.wants_distribution(t)
    }
    fn wants_panel(&self) -> bool {
        self.error.is_none()
    }
    fn panel(&mut self, t: Tick, households: &[Household]) {
        if self.error.is_none() {
            if let Err(e) = self.stream.write(self.cfg, t, households) {
                self.error = Some(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        let mut c = crate::scenario::load_builtin(
            "two_way_market.toml",
            &[
                "region.Upland.households=300".into(),
                "region.Coastal.households=50".into(),
            ],
        )
        .unwrap()
        .config;
        c.calendar.ticks = 36;
        c
    }

    fn hidden(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect()
    }

    #[test]
    fn the_streamed_panel_equals_the_panel_kept_in_memory() {
        let c = cfg();
        let mut kept = TableRecorder::new(&c, true);
        crate::model::run::run(&c, &mut kept);
        let want = panel_frame(&c, &kept.panel_rows).unwrap();
        for format in [Format::Parquet, Format::Csv] {
            let dir = tempfile::tempdir().unwrap();
            // Chunks of 100 households: each year-end is written in four pieces.
            let stream = PanelStream::create(dir.path(), &c, format)
                .unwrap()
                .with_chunk(100);
            let mut rec = StreamingRecorder::new(&c, stream);
            crate::model::run::run(&c, &mut rec);
            let (tables, stream) = rec.into_parts();
            // The other tables are those of an in-memory run.
            assert_eq!(
                format!("{:?}", tables.metrics),
                format!("{:?}", kept.metrics)
            );
            assert!(!fs::exists(dir.path().join(format!("households.{}", format.ext()))).unwrap());
            let path = stream.unwrap().finish().unwrap();
            assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
            if format == Format::Parquet {
                let got = crate::output::read_parquet(&path).unwrap();
                assert_eq!(got.height(), 3 * 350);
                assert!(got.equals_missing(&want));
            } else {
                let mut want = want.clone();
                let mut buf = Vec::new();
                CsvWriter::new(&mut buf).finish(&mut want).unwrap();
                assert_eq!(fs::read(&path).unwrap(), buf);
            }
        }
    }

    #[test]
    fn an_unfinished_stream_leaves_nothing_behind() {
        let c = cfg();
        let dir = tempfile::tempdir().unwrap();
        let stream = PanelStream::create(dir.path(), &c, Format::Parquet).unwrap();
        assert_eq!(hidden(dir.path()).len(), 1);
        stream.abort();
        assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
        let mut stream = PanelStream::create(dir.path(), &c, Format::Csv).unwrap();
        stream.write(&c, 11, &[]).unwrap();
        drop(stream);
        assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}
