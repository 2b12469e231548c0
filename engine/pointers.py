"""Raw-pointer helpers that let a Numba ``@cfunc`` reach numpy arrays and C functions.

PortAudio hands the callback ``void*`` buffers and our ``userData``; Numba has no built-in
way to turn an integer address into a typed pointer, so these LLVM intrinsics do the casts.
They are zero-cost (a single ``inttoptr``/``ptrtoint``) and safe to call without the GIL.
"""

from __future__ import annotations

import ctypes

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _inttoptr(pointee: types.Type):
    ptr_type = types.CPointer(pointee)

    @intrinsic
    def cast(typingctx, address):
        if not isinstance(address, types.Integer):
            return None
        sig = ptr_type(address)

        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], context.get_value_type(ptr_type))

        return sig, codegen

    return cast


f32_ptr = _inttoptr(types.float32)
f64_ptr = _inttoptr(types.float64)
i64_ptr = _inttoptr(types.int64)
i32_ptr = _inttoptr(types.int32)


@intrinsic
def void_ptr(typingctx, address):
    """An integer address as ``void*`` (for C functions called through ctypes)."""
    if not isinstance(address, types.Integer):
        return None
    sig = types.voidptr(address)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.voidptr))

    return sig, codegen


@intrinsic
def address_of(typingctx, pointer):
    """A ``void*`` (or any C pointer) as an int64 address."""
    if not isinstance(pointer, (types.RawPointer, types.CPointer)):
        return None
    sig = types.int64(pointer)

    def codegen(context, builder, signature, args):
        return builder.ptrtoint(args[0], context.get_value_type(types.int64))

    return sig, codegen


def _int64_slot_pointer(context, builder, array_type, array, index):
    ary = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, ary, [index])


# Acquire/release atomics on an int64 array slot: the ordering argument for the
# lock-free rings rests on these two (see engine/ring.py).
@intrinsic
def load_acquire(typingctx, array, index):
    """``array[index]`` read with acquire ordering (int64 arrays)."""
    if not (isinstance(array, types.Array) and array.dtype == types.int64):
        return None
    sig = types.int64(array, index)

    def codegen(context, builder, signature, args):
        ptr = _int64_slot_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(ptr, ordering="acquire", align=8)

    return sig, codegen


@intrinsic
def store_release(typingctx, array, index, value):
    """``array[index] = value`` written with release ordering (int64 arrays)."""
    if not (isinstance(array, types.Array) and array.dtype == types.int64):
        return None
    sig = types.void(array, index, types.int64)

    def codegen(context, builder, signature, args):
        ptr = _int64_slot_pointer(context, builder, signature.args[0], args[0], args[1])
        value = context.cast(builder, args[2], signature.args[2], types.int64)
        builder.store_atomic(value, ptr, ordering="release", align=8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def call_lv2_run(typingctx, function, handle, frames):
    """Call ``void run(LV2_Handle, uint32_t)`` at address ``function``: an LV2 plugin's
    own ``run``, reached through its descriptor, as a plain indirect C call (no GIL)."""
    if not all(isinstance(a, types.Integer) for a in (function, handle, frames)):
        return None
    sig = types.void(function, handle, frames)

    def codegen(context, builder, signature, args):
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p, ir.IntType(32)])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        count = builder.trunc(context.cast(builder, args[2], signature.args[2], types.int64),
                              ir.IntType(32))
        builder.call(fn, [builder.inttoptr(args[1], i8p), count])
        return context.get_dummy_value()

    return sig, codegen


def libc_function(name: str, restype, *argtypes) -> ctypes._CFuncPtr:
    """A libc function as a ctypes object that Numba can call from nopython code."""
    fn = getattr(ctypes.CDLL("libc.so.6", use_errno=True), name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn
