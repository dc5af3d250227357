"""Files without pickle, written so that a crash never destroys the previous file.

``npz``:    safe reading of ``.npz`` archives (every header checked before anything is allocated), JSON members,
            format checks, atomic ``.npz`` saves.
``atomic``: every file rnnviz writes goes through ``atomic_write`` (temporary beside the target, fsync, rename,
            fsync of the folder); stale temporaries of killed saves are removed; output places are probed before
            any work starts. ``open_log``: the log a child process streams into (not atomic).
``runs``:   the files of one run published as a set with a manifest (``RunWriter``), read back as one
            (``read_run``).
"""
from rnnviz.core.files.atomic import (
    STALE_SECONDS,
    TMP_SUFFIX,
    OutputPlace,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    check_output_file,
    check_output_folder,
    check_room,
    open_log,
    remove_stale_temporaries,
)
from rnnviz.core.files.npz import (
    MAX_ARRAY_ELEMENTS,
    MAX_NDIM,
    MAX_NPZ_BYTES,
    MAX_NPZ_ENTRIES,
    NUMERIC_KINDS,
    atomic_save_npz,
    check_format,
    check_npz,
    json_from_array,
    json_to_array,
    npz_size,
    read_npz,
    require_finite,
    savez_writer,
)
from rnnviz.core.files.runs import RUN_MANIFEST, RunWriter, read_run

__all__ = [
    "MAX_ARRAY_ELEMENTS",
    "MAX_NDIM",
    "MAX_NPZ_BYTES",
    "MAX_NPZ_ENTRIES",
    "NUMERIC_KINDS",
    "RUN_MANIFEST",
    "STALE_SECONDS",
    "TMP_SUFFIX",
    "OutputPlace",
    "RunWriter",
    "atomic_save_npz",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_format",
    "check_npz",
    "check_output_file",
    "check_output_folder",
    "check_room",
    "json_from_array",
    "json_to_array",
    "npz_size",
    "read_npz",
    "read_run",
    "remove_stale_temporaries",
    "require_finite",
    "savez_writer",
]
