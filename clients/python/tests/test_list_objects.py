"""list_objects: every object, read page by page past the daemon's page of
1,000 names, and with a prefix."""


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

