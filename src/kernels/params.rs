//! A kernel's uniform (binding 0) is a typed `#[repr(C)]` struct that mirrors the `Params`
//! struct of its WGSL source field by field, declared with [`uniform!`] beside the kernel; the
//! kernel's declaration names it, so a launch cannot pass another kernel's uniform, and
//! `kernels::translate` checks each against naga's layout of the shader (names, offsets,
//! size), so the two cannot drift apart.

/// A kernel's uniform: plain 4-byte fields, at most eight.
pub(crate) trait Uniform: bytemuck::Pod {
    /// Its field names, in order.
    const FIELDS: &'static [&'static str];

    /// The eight words a dispatch carries (zero past the struct's end).
    fn words(&self) -> [u32; 8] {
        let mut words = [0u32; 8];
        let bytes = bytemuck::bytes_of(self);
        bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        words
    }
}

/// Declares a uniform struct: `uniform! { /// doc\n ReluParams { n4: u32, _pad0: u32, .. } }`.
macro_rules! uniform {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
        pub(crate) struct $name {
            $(pub $field: $ty),*
        }

        impl $crate::kernels::Uniform for $name {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}
pub(crate) use uniform;
