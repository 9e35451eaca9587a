package dev.ferry.migration;

import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceController;
import dev.ferry.device.DeviceException;
import dev.ferry.device.Step;
import dev.ferry.device.StepSequence;
import dev.ferry.device.Verdict;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.PeerProtocol.Prepared;
import dev.ferry.migration.PeerProtocol.Switchover;
import dev.ferry.vm.PathRoots;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Scriptable stand-ins for the coordinator's collaborators; they record what was asked of them. */
final class Fakes {
    private Fakes() {}

    /** Roots under which a test's whole directory is storage and saves, its data directory {@code dir/data}. */
    static PathRoots roots(Path dir) {
        Path abs = dir.toAbsolutePath();
        return PathRoots.of(abs.resolve("data"), List.of(abs), List.of(), List.of(abs), List.of());
    }

    /** Everything every fake did, in order, as short strings such as {@code recover d1 pre-suspend}. */
    static final class Log {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        void add(String line) {
            lines.add(line);
        }

        List<String> matching(String prefix) {
            synchronized (lines) {
                return lines.stream().filter(l -> l.startsWith(prefix)).toList();
            }
        }
    }

    static final class Device implements DeviceController {
        final String id;
        final Log log;
        Step failAt;
        String refuse;
        CountDownLatch hangAt;
        Step hangStep;
        String recoverFailure;
        StepSequence needs = StepSequence.FERRY;

        Device(String id, Log log) {
            this.id = id;
            this.log = log;
        }

        /** The device needs {@code sequence}, as a device driven by a tool of that dialect does. */
        Device needing(StepSequence sequence) {
            this.needs = sequence;
            return this;
        }

        @Override
        public StepSequence sequence() {
            return needs;
        }

        Device failingAt(Step step) {
            this.failAt = step;
            return this;
        }

        Device refusing(String why) {
            this.refuse = why;
            return this;
        }

        Device hangingAt(Step step) {
            this.hangStep = step;
            this.hangAt = new CountDownLatch(1);
            return this;
        }

        @Override
        public Verdict check(DeviceContext ctx) throws DeviceException {
            log.add("check " + id);
            if (hangStep == Step.CHECK) {
                try {
                    hangAt.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DeviceException("interrupted");
                }
            }
            return refuse == null ? Verdict.ok() : Verdict.refuse(refuse);
        }

        @Override
        public void preSuspend(DeviceContext ctx) throws DeviceException {
            step(Step.PRE_SUSPEND);
        }

        @Override
        public void postSuspend(DeviceContext ctx) throws DeviceException {
            step(Step.POST_SUSPEND);
        }

        @Override
        public void sync(DeviceContext ctx) throws DeviceException {
            step(Step.SYNC);
        }

        @Override
        public void recover(DeviceContext ctx, Step lastGoodStep) throws DeviceException {
            log.add("recover " + id + " " + lastGoodStep.toolName());
            if (recoverFailure != null) {
                throw new DeviceException(recoverFailure);
            }
        }

        private void step(Step step) throws DeviceException {
            log.add(step.toolName() + " " + id);
            if (step == hangStep) {
                try {
                    hangAt.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DeviceException("interrupted");
                }
            }
            if (step == failAt) {
                throw new DeviceException(id + " broke at " + step.toolName());
            }
        }
    }

    static final class Source implements SourceQemu {
        final Log log;
        boolean running = true;
        boolean failRamCopy;
        /** Thrown from the RAM copy, as a thread that overflows its stack or exhausts the heap would. */
        Error errorInRamCopy;
        boolean failCompletion;
        boolean cancelDuringRamCopy;
        boolean failCancel;
        /** Cancels that fail before one succeeds, as a QEMU blocked on a stopped destination's stream answers nothing. */
        int cancelsUnanswered;
        boolean failResume;
        Cancellation cancellation;

        Source(Log log) {
            this.log = log;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public void configure(MigrationParams params) {
            log.add("qemu configure");
        }

        @Override
        public void startMigration(String uri) {
            log.add("qemu migrate " + uri);
        }

        @Override
        public java.time.Instant awaitPreSwitchover(Duration limit, Consumer<RamProgress> progress,
                                                    BooleanSupplier cancelled) throws MigrationException {
            progress.accept(new RamProgress("active", 10, 90, 100, 0, 1));
            if (cancelDuringRamCopy) {
                cancellation.cancel("operator asked");
            }
            if (failRamCopy) {
                throw new MigrationException("migration did not converge");
            }
            if (errorInRamCopy != null) {
                throw errorInRamCopy;
            }
            log.add("qemu pre-switchover");
            return java.time.Instant.now();
        }

        @Override
        public void continueSwitchover() {
            log.add("qemu continue");
        }

        @Override
        public Completion awaitCompleted(Duration limit) throws MigrationException {
            if (failCompletion) {
                throw new MigrationException("QEMU migration failed: Unable to write to socket");
            }
            log.add("qemu completed");
            return new Completion(new RamProgress("completed", 100, 0, 100, 0, 3), 42L);
        }

        @Override
        public void cancelMigration() throws MigrationException {
            log.add("qemu cancel");
            if (failCancel) {
                throw new MigrationException("QEMU did not leave migration state 'active' within 30 s of a cancel");
            }
            if (cancelsUnanswered > 0) {
                cancelsUnanswered--;
                throw StalledException.silentSource("the source's QEMU (pid 42) is hung: it did not answer 'query-migrate' within 5 s");
            }
        }

        @Override
        public void resume() throws MigrationException {
            log.add("source resume");
            if (failResume) {
                throw new MigrationException("QEMU refused cont: guest has crashed");
            }
        }

        @Override
        public void release() {
            log.add("source release");
        }
    }

    static final class Dest implements Destination {
        final Log log;
        List<Blocker> blockers = List.of();
        boolean failPrepare;
        boolean failAbort;
        MigrationException switchoverFailure;

        Dest(Log log) {
            this.log = log;
        }

        @Override
        public List<Blocker> check() {
            log.add("dest check");
            return blockers;
        }

        @Override
        public Prepared prepare() throws MigrationException {
            log.add("dest prepare");
            if (failPrepare) {
                throw new MigrationException("swtpm failed to start on the destination");
            }
            return new Prepared("tcp:127.0.0.1:4444", java.util.Map.of());
        }

        @Override
        public Switchover switchover() throws MigrationException {
            log.add("dest switchover");
            if (switchoverFailure != null) {
                throw switchoverFailure;
            }
            return new Switchover(true, List.of());
        }

        @Override
        public void abort() throws MigrationException {
            log.add("dest abort");
            if (failAbort) {
                throw new MigrationException("cannot reach agent 'dst': connection refused");
            }
        }
    }
}
