"""nutpie models whose compiled code is kept on disk between processes.

``nutpie.compile_pymc_model`` compiles the model's log density and its gradient with
PyTensor's numba backend (cached on disk by PyTensor) and then wraps them in two numba C
callbacks that read the model's data through a record of pointers. Those wrappers are
compiled afresh in every process (about 8 of the 10 s a national model spends compiling):
their record type carries random field names and their closures are dynamic globals, so
numba cannot cache them.

:func:`compile_model` builds the same two callbacks from generated source with a fixed
layout, the data passed as an array of pointers and shapes, and registers that source with
PyTensor's numba cache under a key made of PyTensor's own keys for the two inner functions
and of the data's types. A second process compiling a model of the same structure loads
both callbacks from disk. The sampler is nutpie's, unchanged: the same seed gives the
same draws as ``nutpie.compile_pymc_model`` (tested). Both are compiled without fast-math
flags (:func:`_exact_arithmetic`), so a run gives the same bits whether its code was just
compiled or read from disk.

The wrappers use four of nutpie's private helpers (``_make_functions``,
``_prepare_dims_and_coords``, ``_wrap_with_lock``, ``address_as_void_pointer``); the
version of nutpie is pinned in ``pyproject.toml``, and when those helpers (or PyTensor's
numba cache, PyTensor 3.x) are missing :func:`compile_model` falls back to
``nutpie.compile_pymc_model``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np

__all__ = ["compile_model"]

#: Bumped whenever the generated source below changes (it is part of the cache key).
WRAPPER_VERSION = 1

_LOGP_SOURCE = """
def logp_wrapper(dim, x_, out_, logp_, user_data_):
    if dim != {n_dim}:
        return -1
    meta = numba.carray(user_data_, ({n_meta},), np.uint64)
    x = numba.carray(x_, ({n_dim},))
    out = numba.carray(out_, ({n_dim},))
    logp = numba.carray(logp_, ())
{unpack}
    try:
        logp_val, grad = inner(x{args})
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:
        return 1
    return 0
"""

_EXPAND_SOURCE = """
def expand_wrapper(dim, expanded, x_, out_, user_data_):
    if dim != {n_dim}:
        return -1
    if expanded != {n_expanded}:
        return -1
    meta = numba.carray(user_data_, ({n_meta},), np.uint64)
    x = numba.carray(x_, ({n_dim},))
    out = numba.carray(out_, ({n_expanded},))
{unpack}
    try:
        (values,) = inner(x{args})
        out[...] = values
    except Exception:
        return -2
    return 0
"""


def compile_model(model) -> Any:
    """A nutpie compiled model of the PyMC ``model`` (numba backend), its two callbacks
    cached on disk (see the module docstring); ``with_data`` swaps in data of the same
    types and ranks without compiling.

    Examples
    --------
    >>> import numpy as np, nutpie, pymc as pm
    >>> with pm.Model() as model:
    ...     y = pm.Data("y", np.array([1.2, 0.4, 2.1, 0.9]))
    ...     mu = pm.Normal("mu", 0.0, 10.0)
    ...     _ = pm.Normal("obs", mu, 1.0, observed=y)
    >>> fitted = compile_model(model)
    >>> fitted.n_dim
    1
    >>> trace = nutpie.sample(fitted, draws=500, tune=300, chains=1, seed=1, progress_bar=False)
    >>> round(float(trace.posterior["mu"].mean()), 1)  # the mean of y, 1.15, shrunk a little
    1.1
    >>> other = fitted.with_data(y=np.array([5.0, 6.0]))  # no compilation
    >>> trace = nutpie.sample(other, draws=500, tune=300, chains=1, seed=1, progress_bar=False)
    >>> round(float(trace.posterior["mu"].mean()))
    5
    """
    import nutpie

    try:
        from nutpie import compile_pymc as cp
        from pytensor.link.numba.cache import (  # noqa: F401 (PyTensor's cache, used below)
            CACHED_SRC_FUNCTIONS,
            compile_numba_function_src,
        )

        helpers = (
            cp._make_functions,
            cp._prepare_dims_and_coords,
            cp._wrap_with_lock,
            cp.address_as_void_pointer,
            cp.CompiledPyMCModel,
        )
    except (ImportError, AttributeError):  # another nutpie or PyTensor: compile as nutpie does
        with _exact_arithmetic():
            return nutpie.compile_pymc_model(model)
    with _exact_arithmetic():
        return _compile(model, *helpers)


def _exact_arithmetic():
    """PyTensor's numba code without fast-math flags (its default allows reassociation
    and fused multiply-adds). With them, code that inlines PyTensor's cached functions
    (compiled in this process) and code that calls them (read from disk) round
    differently: the same seed gave other draws on a first run than on later ones
    (tested)."""
    import pytensor

    return pytensor.config.change_flags(numba__fastmath=False)


def _compile(model, make_functions, dims_and_coords, with_lock, as_pointer, base):
    import numba
    from pymc.initial_point import make_initial_point_fn
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    # nutpie's defaults: the support point, jittered, for every free variable
    initial = with_lock(
        make_initial_point_fn(
            model=model,
            default_strategy="support_point",
            jitter_rvs=set(model.free_RVs),
            return_transformed=True,
        )
    )
    n_dim, n_expanded, logp_pt, expand_pt, initial_point, shape_info, renamed = make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=initial,
    )
    shared = []
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if var not in shared:
            shared.append(var)
    arrays = [_frozen(var.get_value()) for var in shared]
    offsets, n_meta = _layout(arrays)
    env = {"__name__": __name__, "numba": numba, "np": np, "as_ptr": as_pointer}
    env.update({f"dt{i}": getattr(np, a.dtype.name) for i, a in enumerate(arrays)})
    types = repr([(a.dtype.str, a.ndim) for a in arrays])
    # numba invalidates its own entries when it changes; the rest say so in the key
    versions = f"nutpie {_version('nutpie')}, pytensor {_version('pytensor')}"
    double = numba.types.CPointer(numba.types.double)
    u64 = numba.types.uint64
    callbacks = []
    for function, source, name, signature in (
        (
            logp_pt,
            _LOGP_SOURCE,
            "logp_wrapper",
            numba.types.int64(u64, double, double, double, numba.types.voidptr),
        ),
        (
            expand_pt,
            _EXPAND_SOURCE,
            "expand_wrapper",
            numba.types.int64(u64, u64, double, double, numba.types.voidptr),
        ),
    ):
        inner = function.vm.jit_fn
        unpack, args = _unpack([shared.index(v) for v in function.get_shared()], arrays, offsets)
        code = source.format(
            n_dim=n_dim, n_expanded=n_expanded, n_meta=n_meta, unpack=unpack, args=args
        )
        inner_key = CACHED_SRC_FUNCTIONS.get(inner.py_func)
        key = None
        if inner_key is not None:  # PyTensor could key the inner function: so can we
            text = f"lacstats-{WRAPPER_VERSION}:{versions}:{inner_key}:{types}:{code}"
            key = hashlib.sha256(text.encode()).hexdigest()
        callbacks.append(_callback(code, name, signature, {**env, "inner": inner}, key))
    dims, coords = dims_and_coords(model, shape_info, renamed)
    keys = {var: f"s{i}" for i, var in enumerate(shared)}
    cls = _cached_class(base)
    return cls(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=callbacks[0],
        compiled_expand_func=callbacks[1],
        initial_point_func=initial_point,
        shared_data={keys[var]: a for var, a in zip(shared, arrays, strict=True)},
        shared_var_keys=keys,
        user_data=_pointers(arrays, offsets, n_meta),
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=logp_pt,
        expand_func=expand_pt,
        reparameterized_names=renamed,
    )


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _callback(source: str, name: str, signature, env: dict, key: str | None):
    """A numba C callback compiled from ``source``, through PyTensor's cache when keyed."""
    import numba
    from pytensor.link.numba.cache import compile_numba_function_src

    function = compile_numba_function_src(source, name, global_env=env, cache_key=key)
    return numba.cfunc(signature, cache=key is not None)(function)


def _frozen(value) -> np.ndarray:
    array = np.array(value, order="C", copy=True)
    array.flags.writeable = False
    return array


def _layout(arrays: list[np.ndarray]) -> tuple[list[int], int]:
    """Where each array's pointer sits in the pointer array (its shape follows it)."""
    offsets, position = [], 0
    for array in arrays:
        offsets.append(position)
        position += 1 + array.ndim
    return offsets, max(position, 1)


def _unpack(indices: list[int], arrays: list[np.ndarray], offsets: list[int]):
    """Source lines that view each data array from its pointer and shape."""
    lines, args = [], []
    for i in indices:
        array, at = arrays[i], offsets[i]
        dims = ", ".join(f"meta[{at + 1 + k}]" for k in range(array.ndim))
        shape = f"({dims},)" if array.ndim else "()"
        lines.append(f"    s{i} = numba.carray(as_ptr(meta[{at}]), {shape}, dt{i})")
        args.append(f", s{i}")
    return "\n".join(lines) or "    pass", "".join(args)


def _pointers(arrays: list[np.ndarray], offsets: list[int], size: int) -> np.ndarray:
    meta = np.zeros(size, dtype=np.uint64)
    for array, at in zip(arrays, offsets, strict=True):
        meta[at] = array.ctypes.data
        meta[at + 1 : at + 1 + array.ndim] = array.shape
    return meta


_CLASSES: dict[type, type] = {}


def _cached_class(base: type) -> type:
    """nutpie's compiled-model class with ``with_data`` for the pointer array."""
    if base not in _CLASSES:

        @dataclasses.dataclass(frozen=True)
        class CachedPyMCModel(base):
            def with_data(self, **updates):
                data = dict(self.shared_data)
                by_name = {var.name: key for var, key in self.shared_var_keys.items()}
                for name, value in updates.items():
                    if name not in by_name:
                        raise KeyError(f"Unknown shared variable: {name}")
                    old = data[by_name[name]]
                    new = _frozen(np.asarray(value, dtype=old.dtype))
                    if new.ndim != old.ndim:
                        raise ValueError(f"Shared variable {name} must have rank {old.ndim}")
                    data[by_name[name]] = new
                arrays = [data[f"s{i}"] for i in range(len(data))]
                offsets, size = _layout(arrays)
                return dataclasses.replace(
                    self, shared_data=data, user_data=_pointers(arrays, offsets, size)
                )

        _CLASSES[base] = CachedPyMCModel
    return _CLASSES[base]
