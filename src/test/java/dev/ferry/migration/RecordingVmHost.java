package dev.ferry.migration;

import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** A {@link VmHost} whose incoming QEMUs are {@link FakeQemu}s; it records what it was asked. */
final class RecordingVmHost implements VmHost, AutoCloseable {
    private final Path dir;
    final Map<String, FakeQemu> qemus = new ConcurrentHashMap<>();
    final List<String> cleanedUp = new CopyOnWriteArrayList<>();
    /** Called with the spec when an incoming QEMU is asked for, before it "starts". */
    volatile Consumer<VmSpec> onStartIncoming = spec -> {};
    /** Called with each incoming QEMU once it "started". */
    volatile Consumer<FakeQemu> onStarted = qemu -> {};
    /** When set, starting an incoming QEMU fails with it. */
    volatile VmException startFailure;

    RecordingVmHost(Path dir) {
        this.dir = dir;
    }

    @Override
    public VmHandle start(VmSpec spec) throws VmException {
        throw new VmException("vm '" + spec.name() + "': this test host only receives migrations");
    }

    @Override
    public VmHandle startIncoming(VmSpec spec) throws VmException {
        onStartIncoming.accept(spec);
        if (startFailure != null) {
            throw startFailure;
        }
        try {
            FakeQemu qemu = new FakeQemu(spec.name(), dir, false);
            qemus.put(spec.name(), qemu);
            onStarted.accept(qemu);
            return qemu;
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new VmException("vm '" + spec.name() + "': fake QEMU did not start: " + e.getMessage(), e);
        }
    }

    /** Leaves an incoming QEMU behind, as one that outlived an agent's restart. */
    FakeQemu leftOver(String vm) throws Exception {
        FakeQemu qemu = new FakeQemu(vm, dir, false);
        qemus.put(vm, qemu);
        return qemu;
    }

    @Override
    public Optional<VmHandle> reattach(String vmName) {
        return Optional.ofNullable(qemus.get(vmName)).filter(FakeQemu::isAlive).map(q -> q);
    }

    @Override
    public void cleanUp(String vmName) {
        cleanedUp.add(vmName);
    }

    @Override
    public void close() {
        qemus.values().forEach(FakeQemu::close);
    }
}
