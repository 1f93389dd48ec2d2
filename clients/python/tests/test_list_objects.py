"""list_objects: every object, read page by page past the daemon's page of
1,000 names, with a prefix, and the kind names of every kind."""
import ipcd


def test_every_object_past_one_page(manager):
    b = manager.batch()
    names = [f"obj-{i:05d}" for i in range(1200)]
    for name in names:
        b.counter_set(name, 1)
    assert b.run() == [None] * 1200
    manager.counter("other").add(2)
    objects = manager.list_objects()
    assert [o.name for o in objects] == names + ["other"]
    assert {(o.kind, o.size) for o in objects[:1200]} == {("counter", 1)}
    assert [o.name for o in manager.list_objects("obj-")] == names
    assert [o.name for o in manager.list_objects("obj-011")] == names[1100:1200]
    assert manager.list_objects("none-") == []


def test_kind_names(manager, other):
    manager.list("l").append(1)
    manager.semaphore("s", 2)
    manager.bounded_semaphore("bs", 1)
    manager.value("v", 1)
    manager.namespace("ns").a = 1
    manager.barrier("b", 2)
    assert [(o.name, o.kind) for o in manager.list_objects()] == [
        ("b", "barrier"), ("bs", "bounded_semaphore"), ("l", "list"),
        ("ns", "namespace"), ("s", "semaphore"), ("v", "value")]
    assert all(isinstance(o, ipcd.ObjectInfo) for o in other.list_objects())
