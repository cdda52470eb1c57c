//! The five agent kinds and their decision rules: villager households and their workers,
//! firms, governments (eastern, western, centre) and social organisations.
//!
//! Each submodule owns one kind's state layout and rules; region-level rules operate on
//! [`crate::model::world::World`] and are called by [`crate::model::engine::step`] in the ODD's order.

pub mod demography;
pub mod firm;
pub mod government;
pub mod household;
pub mod members;
