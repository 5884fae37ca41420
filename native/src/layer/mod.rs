//! The layer engine: overlay upper dirs and full trees turned into OCI layer tars (one pass,
//! compressed and hashed while written), layers applied safely into a directory, and listed.

mod apply;
mod compress;
mod confine;
mod decode;
mod diff;
mod emit;
mod entries;
mod error;
mod gzip;
mod list;
mod lower;
mod meta;
mod napi;
mod new_side;
mod produce;
mod progress;
mod same;
mod space;
mod tar_writer;
#[cfg(test)]
mod tests;
mod whiteout;

pub use self::napi::{apply_layer, archive_compression, compress_layer, diff_layer, extract_archive, layer_entries};
