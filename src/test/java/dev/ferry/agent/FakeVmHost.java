package dev.ferry.agent;

import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A VM host without QEMU: "processes" are flags, and a test can hold a stop in progress with latches. */
public final class FakeVmHost implements VmHost {
    private final Path runRoot;
    private final AtomicLong pids = new AtomicLong(1000);
    /** VMs whose "QEMU" is alive, by name; survives agents, like real processes do. */
    final Map<String, FakeHandle> alive = new ConcurrentHashMap<>();
    final List<String> cleanedUp = new CopyOnWriteArrayList<>();
    /** Every spec a start was given, in order: what QEMU would have been told to open. */
    final List<VmSpec> started = new CopyOnWriteArrayList<>();
    final Set<String> failStart = ConcurrentHashMap.newKeySet();
    volatile boolean failReattach;
    /** When set, a stop counts this down once it began and waits for {@link #releaseStop}. */
    volatile CountDownLatch stopEntered;
    volatile CountDownLatch releaseStop;

    public FakeVmHost(Path runRoot) {
        this.runRoot = runRoot;
    }

    @Override
    public VmHandle start(VmSpec spec) throws VmException {
        if (failStart.contains(spec.name())) {
            throw new VmException("vm '" + spec.name() + "': qemu exited at start: boom");
        }
        started.add(spec);
        FakeHandle h = new FakeHandle(spec.name(), pids.incrementAndGet());
        alive.put(spec.name(), h);
        return h;
    }

    @Override
    public Optional<VmHandle> reattach(String vmName) throws VmException {
        if (failReattach) {
            throw new VmException("vm '" + vmName + "': cannot read its pidfile");
        }
        return Optional.ofNullable(alive.get(vmName));
    }

    @Override
    public void cleanUp(String vmName) {
        cleanedUp.add(vmName);
    }

    /** Makes the VM's "QEMU" die as if the guest crashed it, or powered itself off. */
    void exit(String name, VmState as) {
        FakeHandle h = alive.remove(name);
        h.state = as;
    }

    final class FakeHandle implements VmHandle {
        private final String name;
        private final long pid;
        volatile VmState state = VmState.RUNNING;
        volatile boolean closed;

        FakeHandle(String name, long pid) {
            this.name = name;
            this.pid = pid;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public VmState state() {
            return state;
        }

        @Override
        public void pause() {
            state = VmState.PAUSED;
        }

        @Override
        public void resume() {
            state = VmState.RUNNING;
        }

        @Override
        public void stop(Duration grace) throws VmException {
            CountDownLatch entered = stopEntered;
            if (entered != null) {
                entered.countDown();
                try {
                    if (!releaseStop.await(10, TimeUnit.SECONDS)) {
                        throw new VmException("vm '" + name + "': test never released the stop");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new VmException("vm '" + name + "': interrupted", e);
                }
            }
            gone();
        }

        @Override
        public void destroy() {
            gone();
        }

        private void gone() {
            state = VmState.STOPPED;
            alive.remove(name, this);
        }

        @Override
        public boolean isAlive() {
            return alive.get(name) == this;
        }

        @Override
        public long pid() {
            return pid;
        }

        @Override
        public Path runDir() {
            return runRoot.resolve(name);
        }

        @Override
        public Path serialLog() {
            return runDir().resolve("serial.log");
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
