#!/usr/bin/env python3
# test-gi.py: libpatches through GObject-Introspection (PyGObject)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Loads the Patches-1.0 typelib from the build directory (GI_TYPELIB_PATH
# and LD_LIBRARY_PATH are set by tests/gi/meson.build), opens a document
# through a PatchesClient over a PatchesMemoryStore and changes it through
# a PatchesPatch, the way a Python or GJS application would.  Output is
# TAP; the plan `1..0 # SKIP` skips the test when the typelib was not
# built or PyGObject is missing.

import json
import os
import sys

if not os.environ.get("PATCHES_GI_TYPELIB_DIR"):
    print("1..0 # SKIP the Patches typelib was not built (introspection disabled)")
    sys.exit(0)

try:
    import gi
except ImportError:
    print("1..0 # SKIP PyGObject (python3-gi) is not installed")
    sys.exit(0)

gi.require_version("GLib", "2.0")
gi.require_version("GObject", "2.0")
gi.require_version("Patches", "1.0")
from gi.repository import GLib, GObject, Patches  # noqa: E402


def state_of(doc):
    return json.loads(doc.get_state().to_json())


def test_types():
    store = Patches.MemoryStore.new()
    assert isinstance(store, GObject.Object)
    assert isinstance(store, Patches.Store)
    client = Patches.Client.new(store)
    assert client.get_store() == store
    assert GObject.type_is_a(Patches.Doc.__gtype__, GObject.Object)


def test_value_roundtrip():
    value = Patches.value_parse('{"a": [1, 2.5, "x", null, true]}', -1)
    assert value.get_kind() == Patches.ValueType.OBJECT
    assert value.object_get_size() == 1
    assert json.loads(value.to_json()) == {"a": [1, 2.5, "x", None, True]}

    try:
        Patches.value_parse("{nope", -1)
    except GLib.Error:
        pass
    else:
        raise AssertionError("parsing invalid JSON did not raise GLib.Error")


def test_doc_change():
    store = Patches.MemoryStore.new()
    client = Patches.Client.new(store)

    doc = client.open_doc("doc-1")
    assert doc.get_id() == "doc-1"
    assert client.get_open_doc("doc-1") == doc
    assert state_of(doc) == {}
    assert doc.get_committed_rev() == 0
    assert not doc.get_has_pending()

    updates = []
    changed = []
    doc.connect("update",
                lambda d, ops, local: updates.append((json.loads(ops.to_json()), local)))
    doc.connect("changed", lambda d, change: changed.append(change))

    patch = Patches.Patch.new()
    patch.replace("/title", Patches.value_parse('"Hello"', -1), False)
    patch.replace("/tags", Patches.value_parse('["a", "b"]', -1), False)
    assert patch.get_n_ops() == 2
    assert json.loads(patch.to_json()) == [
        {"op": "replace", "path": "/title", "value": "Hello"},
        {"op": "replace", "path": "/tags", "value": ["a", "b"]},
    ]

    change = doc.change(patch)
    assert change is not None
    assert state_of(doc) == {"title": "Hello", "tags": ["a", "b"]}
    assert doc.get_has_pending()
    assert doc.get_n_pending() == 1
    assert doc.get_committed_rev() == 0
    # the committed state is untouched until the server commits the change
    assert json.loads(doc.get_committed_state().to_json()) == {}
    assert updates == [([
        {"op": "replace", "path": "/title", "value": "Hello"},
        {"op": "replace", "path": "/tags", "value": ["a", "b"]},
    ], True)]
    assert len(changed) == 1

    # a second change on top of the first
    patch = Patches.Patch.new()
    patch.replace("/title", Patches.value_parse('"Hi"', -1), False)
    doc.change(patch)
    assert state_of(doc) == {"title": "Hi", "tags": ["a", "b"]}
    assert doc.get_n_pending() == 2

    # the store keeps the pending changes: a fresh open of the same doc
    # through a second client sees them
    client.close_doc("doc-1")
    other = Patches.Client.new(store)
    reopened = other.open_doc("doc-1")
    assert state_of(reopened) == {"title": "Hi", "tags": ["a", "b"]}
    assert reopened.get_n_pending() == 2


def main():
    tests = [test_types, test_value_roundtrip, test_doc_change]
    print("1..%d" % len(tests))
    failed = 0
    for i, test in enumerate(tests, 1):
        try:
            test()
        except Exception as e:  # report every failure, keep going
            import traceback
            traceback.print_exc(file=sys.stdout)
            print("not ok %d - %s: %r" % (i, test.__name__, e))
            failed += 1
        else:
            print("ok %d - %s" % (i, test.__name__))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
