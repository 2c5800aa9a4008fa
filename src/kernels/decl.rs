//! How a kernel declares itself, once, beside the op that launches it: its WGSL source (the
//! shared parts and the family's file), entry point, bindings, the typed uniform it reads, its
//! specialisation as a typed struct of WGSL `override` flags, and its workgroup size. From that
//! one declaration come the pipeline (`kernels/mod.rs`), the checks that every kernel translates
//! and that its uniform mirrors the WGSL (`translate.rs`, over [`crate::ops::kernels`]), the
//! inventory for Tint, and a typed launch (`gpu/launch.rs`): a uniform or a specialisation of
//! another kernel does not compile, and the grid is worked out from the work.

use std::borrow::Cow;
use std::marker::PhantomData;

use super::params::Uniform;

/// A WGSL module: shared parts first, the family's file last, and for generated families a
/// header made at run time (the blocked matmul's tile constants).
#[derive(Debug)]
pub(crate) struct Source {
    /// A short name, unique: the module cache's key and the inventory's.
    pub name: &'static str,
    /// The WGSL text, in order (each an `include_str!` of `shaders/`).
    pub parts: &'static [&'static str],
    /// Generated WGSL put in front of `parts`, if any.
    pub header: Option<fn() -> String>,
    /// Every memory access is guarded by the source's own code (or by the host's choice of
    /// specialisation), so wgpu's runtime checks may be left out when asked.
    pub guards_itself: bool,
    /// The device feature the module needs (`SUBGROUP`), if any; Tint also needs its
    /// `enable` directive, which naga 30 does not take.
    pub needs_subgroups: bool,
    /// Bytes of workgroup memory past WebGPU's default 16 KiB that its kernels declare (the
    /// host runs them only where the device allows); 0 for the others.
    pub workgroup_bytes: u32,
}

/// Which WGSL compiler reads a source: naga (wgpu's native backends) or Tint (a browser's
/// WebGPU, through wgpu's WebGPU backend).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Compiler {
    Naga,
    Tint,
}

impl Compiler {
    /// The compiler behind `backend`.
    pub(crate) fn of(backend: wgpu::Backend) -> Compiler {
        if backend == wgpu::Backend::BrowserWebGpu {
            Compiler::Tint
        } else {
            Compiler::Naga
        }
    }
}

impl Source {
    /// A source of `parts`, run with wgpu's checks, no header, no feature.
    pub(crate) const fn of(name: &'static str, parts: &'static [&'static str]) -> Source {
        Source {
            name,
            parts,
            header: None,
            guards_itself: false,
            needs_subgroups: false,
            workgroup_bytes: 0,
        }
    }

    /// The module's WGSL as naga reads it.
    pub(crate) fn wgsl(&self) -> Cow<'static, str> {
        match (self.header, self.parts) {
            (None, [only]) => Cow::Borrowed(only),
            (header, parts) => {
                let mut text = header.map(|h| h()).unwrap_or_default();
                for part in parts {
                    text.push_str(part);
                    text.push('\n');
                }
                Cow::Owned(text)
            }
        }
    }

    /// The module's WGSL for `compiler`: Tint needs `enable subgroups;` in front of a source
    /// that uses them (WGSL requires it; naga 30 does not yet accept it).
    pub(crate) fn wgsl_for(&self, compiler: Compiler) -> Cow<'static, str> {
        if compiler == Compiler::Tint && self.needs_subgroups {
            return Cow::Owned(format!("enable subgroups;\n{}", self.wgsl()));
        }
        self.wgsl()
    }
}

/// How a kernel uses a binding after the uniform: a storage buffer, or a 2D texture of
/// `rgba32float` texels (read with `textureLoad`, or written as a storage texture).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Access {
    Read,
    ReadWrite,
    Texture,
    WriteTexture,
}

/// One entry point and what its pipeline needs, untyped: what the caches, the layouts and the
/// checks read. Made by a [`Decl`].
#[derive(Debug)]
pub(crate) struct Kernel {
    pub source: &'static Source,
    pub entry: &'static str,
    /// Bindings 1.. in order (binding 0 is the `Params` uniform).
    pub bindings: &'static [Access],
    /// Boolean `override` constants; bit `i` of a launch's specialisation sets `flags[i]`.
    pub flags: &'static [&'static str],
    /// The uniform's field names and size, which the WGSL `Params` must mirror (checked by
    /// `translate.rs`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub params: (&'static [&'static str], usize),
    /// Invocations per workgroup along x, y, z (the shader's `@workgroup_size`).
    pub workgroup: [u32; 3],
}

impl Kernel {
    /// The `override` constants of a pipeline: the flags as `spec`'s bits set them, and `WG`
    /// (invocations per workgroup along x) where the source declares it — the declaration's
    /// workgroup size, which the shader then takes from here.
    pub(crate) fn constants(&self, spec: u32) -> Vec<(&'static str, f64)> {
        let mut constants: Vec<(&'static str, f64)> = self
            .flags
            .iter()
            .enumerate()
            .map(|(i, name)| (*name, f64::from((spec >> i) & 1)))
            .collect();
        if self
            .source
            .parts
            .iter()
            .any(|p| p.contains("override WG: u32;"))
        {
            constants.push(("WG", f64::from(self.workgroup[0])));
        }
        constants
    }

    /// Invocations in one workgroup.
    pub(crate) fn invocations(&self) -> u64 {
        self.workgroup.iter().map(|&w| u64::from(w)).product()
    }
}

/// A kernel's specialisation: a struct of flags, each a WGSL `override` of the same name in
/// capitals (see [`spec!`](crate::kernels::spec)).
pub(crate) trait Spec: Copy {
    /// The `override` names, in the order of [`Spec::bits`].
    const FLAGS: &'static [&'static str];
    /// The flags as bits, for the pipeline cache's key.
    fn bits(self) -> u32;
}

/// No specialisation.
impl Spec for () {
    const FLAGS: &'static [&'static str] = &[];
    fn bits(self) -> u32 {
        0
    }
}

/// Declares a specialisation struct: `spec! { /// doc\n MatmulSpec { trans_a: "TRANS_A", .. } }`
/// gives `MatmulSpec { pub trans_a: bool, .. }` and its [`Spec`].
macro_rules! spec {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $flag:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub(crate) struct $name {
            $(pub $field: bool),*
        }

        impl $crate::kernels::Spec for $name {
            const FLAGS: &'static [&'static str] = &[$($flag),*];
            fn bits(self) -> u32 {
                let flags = [$(self.$field),*];
                flags.iter().enumerate().fold(0, |b, (i, &on)| b | (u32::from(on) << i))
            }
        }
    };
}
pub(crate) use spec;

/// How much work a launch covers, from which it works out (and folds) its grid.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Work {
    /// One invocation per item, in 1-D (folded into x and y).
    Items(usize),
    /// This many workgroups, in 1-D (folded into x and y).
    Groups(usize),
    /// `x` × `y` workgroups, y folded into y and z (tiles of a matrix: columns × rows).
    Tiles(usize, usize),
    /// One invocation per item folded into x and y, repeated over `layers` along z (at most
    /// the device's per-dimension limit).
    Layers(usize, usize),
}

/// A kernel declared with its types: the uniform `P`, the specialisation `S` and `N` bindings.
/// Launch it with `DECL.launch(gpu, op, spec, params, buffers, work)` (`gpu/launch.rs`).
pub(crate) struct Decl<P: Uniform, S: Spec, const N: usize> {
    pub(crate) kernel: Kernel,
    types: PhantomData<fn(P, S)>,
}

impl<P: Uniform, S: Spec, const N: usize> std::fmt::Debug for Decl<P, S, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kernel.fmt(f)
    }
}

impl<P: Uniform, S: Spec, const N: usize> Decl<P, S, N> {
    /// The declaration of `entry` in `source`, with `bindings` in WGSL order and `workgroup`
    /// invocations (as the shader's `@workgroup_size`).
    pub(crate) const fn new(
        source: &'static Source,
        entry: &'static str,
        bindings: &'static [Access; N],
        workgroup: [u32; 3],
    ) -> Self {
        Decl {
            kernel: Kernel {
                source,
                entry,
                bindings,
                flags: S::FLAGS,
                params: (P::FIELDS, std::mem::size_of::<P>()),
                workgroup,
            },
            types: PhantomData,
        }
    }
}

/// `Access::Read` and the rest, short, for declarations.
pub(crate) use Access::{Read as R, ReadWrite as RW, Texture as T, WriteTexture as WT};

/// Declares a module's kernels, one line each, and its `KERNELS` list (what
/// `ops::inventory` gathers):
///
/// ```ignore
/// kernels! {
///     /// ReLU forward: bindings x, g (unused), out.
///     pub(crate) static RELU_FORWARD: ReluParams, () = SOURCE, "relu_forward", [R, R, RW], [256, 1, 1];
/// }
/// ```
macro_rules! kernels {
    ($($(#[$doc:meta])* $vis:vis static $name:ident: $p:ty, $s:ty =
        $source:path, $entry:literal, [$($b:ident),* $(,)?], $wg:expr;)*) => {
        $(
            $(#[$doc])*
            $vis static $name: $crate::kernels::Decl<$p, $s, { [$(stringify!($b)),*].len() }> =
                $crate::kernels::Decl::new(
                    &$source,
                    $entry,
                    &[$($crate::kernels::$b),*],
                    $wg,
                );
        )*
        /// Every kernel this module declares.
        pub(crate) static KERNELS: &[&$crate::kernels::Kernel] = &[$(&$name.kernel),*];
    };
}
pub(crate) use kernels;
