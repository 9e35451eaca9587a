package dev.ferry.vm;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Runs VMs as daemonized QEMU processes under {@code runRoot/NAME} ({@link RunDir}). Start order is
 * swtpm, QEMU, QMP; a failure at any step undoes the steps before it, so a failed start leaves no
 * process and no directory. Everything needed to find a VM again is in its run directory, so a new
 * QemuHost (after the agent restarted) can {@link #reattach} to it.
 */
public final class QemuHost implements VmHost {
    /** A Unix socket path holds at most 107 bytes on Linux. */
    private static final int MAX_SOCKET_PATH = 107;

    /**
     * @param start   how long QEMU (and swtpm) may take to start and daemonize
     * @param command how long a QMP command may take
     * @param exit    how long a process gets to exit after quit or a signal
     */
    public record Timeouts(Duration start, Duration command, Duration exit) {
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    private final Path runRoot;
    private final Path qemu;
    private final ProcessRunner runner;
    private final Swtpm swtpm;
    private final Timeouts timeouts;
    private final BooleanSupplier kvmAvailable;

    public QemuHost(Path runRoot, Path qemu, Path swtpm, ProcessRunner runner) {
        this(runRoot, qemu, swtpm, runner, Timeouts.DEFAULT);
    }

    public QemuHost(Path runRoot, Path qemu, Path swtpm, ProcessRunner runner, Timeouts timeouts) {
        this(runRoot, qemu, swtpm, runner, timeouts, Accelerator.AUTO::useKvm);
    }

    /** A host whose QEMU runs guests with {@code accel} (the agent configuration's {@code accel}). */
    public QemuHost(Path runRoot, Path qemu, Path swtpm, ProcessRunner runner, Accelerator accel) {
        this(runRoot, qemu, swtpm, runner, Timeouts.DEFAULT, accel::useKvm);
    }

    QemuHost(Path runRoot, Path qemu, Path swtpm, ProcessRunner runner, Timeouts timeouts, BooleanSupplier kvmAvailable) {
        this.runRoot = runRoot.toAbsolutePath().normalize();
        if (this.runRoot.toString().indexOf(',') >= 0) {
            // swtpm's option syntax has no escape for commas.
            throw new IllegalArgumentException("run root " + this.runRoot + " contains ','; choose a directory without one");
        }
        this.qemu = qemu;
        this.runner = runner;
        this.swtpm = new Swtpm(runner, swtpm, timeouts.start());
        this.timeouts = timeouts;
        this.kvmAvailable = kvmAvailable;
    }

    @Override
    public VmHandle start(VmSpec spec) throws VmException {
        return launch(spec, false);
    }

    @Override
    public VmHandle startIncoming(VmSpec spec) throws VmException {
        return launch(spec, true);
    }

    private VmHandle launch(VmSpec spec, boolean incoming) throws VmException {
        String name = spec.name();
        RunDir run = RunDir.of(runRoot, name);
        prepare(name, run);
        writeSpec(run, spec);
        Long swtpmPid = null;
        Long qemuPid = null;
        QmpClient qmp = null;
        try {
            Optional<DeviceSpec.Swtpm> tpm = swtpmOf(spec);
            if (tpm.isPresent()) {
                swtpmPid = swtpm.start(name, run, tpm.get());
            }
            qemuPid = startQemu(spec, run, incoming);
            qmp = QmpClient.connect(run.qmpSocket(), timeouts.start());
            attachTaps(spec);
            return new QemuVm(name, run, qemuPid, qmp, this, timeouts);
        } catch (QmpException e) {
            undo(run, qmp, qemuPid, swtpmPid);
            throw new VmException("vm '" + name + "': QEMU started but QMP does not answer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            undo(run, qmp, qemuPid, swtpmPid);
            Thread.currentThread().interrupt();
            throw new VmException("vm '" + name + "': interrupted while starting; nothing was left running", e);
        } catch (VmException | RuntimeException e) {
            undo(run, qmp, qemuPid, swtpmPid);
            throw e;
        }
    }

    /** Refuses a VM that runs already, clears what a dead one left, and creates a fresh run directory. */
    private void prepare(String name, RunDir run) throws VmException {
        int socketBytes = run.swtpmSocket().toString().getBytes(StandardCharsets.UTF_8).length;
        if (socketBytes > MAX_SOCKET_PATH) {
            throw new VmException("vm '" + name + "': its run directory " + run.path() + " is too long for a Unix socket path ("
                    + socketBytes + " bytes, at most " + MAX_SOCKET_PATH + "); use a shorter run root");
        }
        OptionalLong running = runningQemu(run);
        if (running.isPresent()) {
            throw new VmException("vm '" + name + "': already running (QEMU pid " + running.getAsLong()
                    + "); reattach to it or stop it first");
        }
        cleanUp(name);
        try {
            Files.createDirectories(runRoot);
            Files.createDirectory(run.path(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new VmException("vm '" + name + "': cannot create its run directory " + run.path() + ": " + e, e);
        }
    }

    private static void writeSpec(RunDir run, VmSpec spec) throws VmException {
        try {
            Files.writeString(run.specFile(), spec.toYaml());
        } catch (IOException e) {
            deleteQuietly(run.path());
            throw new VmException("vm '" + spec.name() + "': cannot write its spec to " + run.specFile() + ": " + e, e);
        }
    }

    /**
     * The VMs whose run directory under {@code runRoot} names a live QEMU of its own, with its pid.
     * Only reads: for {@code ferry agent repair} and for an agent that finds run directories but no state.
     */
    public static Map<String, Long> runningIn(Path runRoot) {
        Map<String, Long> out = new TreeMap<>();
        if (!Files.isDirectory(runRoot)) {
            return out;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(runRoot, Files::isDirectory)) {
            for (Path dir : dirs) {
                RunDir run = new RunDir(dir);
                runningQemu(run).ifPresent(pid -> out.put(dir.getFileName().toString(), pid));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the run directories in " + runRoot + ": " + e.getMessage(), e);
        }
        return out;
    }

    private static Optional<DeviceSpec.Swtpm> swtpmOf(VmSpec spec) {
        return spec.devices(DeviceSpec.Tpm.class).stream()
                .map(DeviceSpec.Tpm::backend)
                .filter(DeviceSpec.Swtpm.class::isInstance)
                .map(DeviceSpec.Swtpm.class::cast)
                .findFirst();
    }

    private long startQemu(VmSpec spec, RunDir run, boolean incoming) throws VmException, InterruptedException {
        QemuCommandLine.Accel accel = kvmAvailable.getAsBoolean() ? QemuCommandLine.Accel.KVM : QemuCommandLine.Accel.TCG;
        List<String> argv = QemuCommandLine.build(qemu, spec, run, accel, incoming);
        ProcResult result;
        try {
            result = runner.run(Command.of(argv).workDir(run.path()).timeout(timeouts.start()));
        } catch (IOException e) {
            throw new VmException("vm '" + spec.name() + "': cannot run QEMU (" + qemu + "): " + e.getMessage()
                    + "; install QEMU or configure its path", e);
        }
        if (!result.ok()) {
            // With -D, what QEMU says once it has read its options goes to its log, not to stderr.
            String stderr = result.stderr().text().strip();
            String logged = QemuLog.tail(run.qemuLog());
            String why = stderr.isEmpty() ? logged : logged.isEmpty() ? stderr : stderr + " / " + logged;
            throw new VmException("vm '" + spec.name() + "': QEMU did not start: "
                    + (why.isEmpty() ? result.describe() : why));
        }
        OptionalLong pid = PidFile.read(run.qemuPidFile());
        if (pid.isEmpty()) {
            throw new VmException("vm '" + spec.name() + "': QEMU exited 0 but wrote no pidfile at " + run.qemuPidFile());
        }
        return pid.getAsLong();
    }

    /** QEMU creates each tap (script=no); joining it to its bridge is ours to do. */
    private void attachTaps(VmSpec spec) throws VmException, InterruptedException {
        for (DeviceSpec.Nic nic : spec.devices(DeviceSpec.Nic.class)) {
            if (nic.backend() instanceof DeviceSpec.TapNet tap) {
                try {
                    ProcResult r = runner.run(Command.of("ip", "link", "set", "dev", tap.ifname(), "master", tap.bridge(), "up")
                            .timeout(timeouts.command()));
                    if (!r.ok()) {
                        throw new VmException("vm '" + spec.name() + "': device '" + nic.id() + "': cannot attach tap "
                                + tap.ifname() + " to bridge " + tap.bridge() + ": " + r.describe());
                    }
                } catch (IOException e) {
                    throw new VmException("vm '" + spec.name() + "': device '" + nic.id() + "': cannot run ip: " + e.getMessage()
                            + "; install iproute2", e);
                }
            }
        }
    }

    private void undo(RunDir run, QmpClient qmp, Long qemuPid, Long swtpmPid) {
        if (qmp != null) {
            qmp.close();
        }
        try {
            OptionalLong pid = qemuPid != null ? OptionalLong.of(qemuPid) : runningQemu(run);
            if (pid.isPresent() && isOurQemu(pid.getAsLong(), run)) {
                Processes.kill(pid.getAsLong());
                Processes.awaitExit(pid.getAsLong(), timeouts.exit());
            }
            if (swtpmPid != null) {
                Swtpm.stop(swtpmPid, run, timeouts.exit());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deleteQuietly(run.path());
    }

    @Override
    public Optional<VmHandle> reattach(String vmName) throws VmException {
        RunDir run = RunDir.of(runRoot, vmName);
        if (!Files.isDirectory(run.path())) {
            return Optional.empty();
        }
        OptionalLong pid = runningQemu(run);
        if (pid.isEmpty()) {
            cleanUp(vmName);
            return Optional.empty();
        }
        try {
            QmpClient qmp = QmpClient.connect(run.qmpSocket(), timeouts.start());
            return Optional.of(new QemuVm(vmName, run, pid.getAsLong(), qmp, this, timeouts));
        } catch (QmpException e) {
            throw new VmException("vm '" + vmName + "': QEMU runs (pid " + pid.getAsLong() + ") but its QMP socket does not answer: "
                    + e.getMessage() + "; is another client connected to " + run.qmpSocket() + "?", e);
        }
    }

    @Override
    public void cleanUp(String vmName) throws VmException {
        RunDir run = RunDir.of(runRoot, vmName);
        OptionalLong qemuPid = runningQemu(run);
        if (qemuPid.isPresent()) {
            throw new VmException("vm '" + vmName + "': QEMU still runs (pid " + qemuPid.getAsLong() + "); stop or destroy it first");
        }
        OptionalLong swtpmPid = Swtpm.running(run);
        try {
            if (swtpmPid.isPresent()) {
                Swtpm.stop(swtpmPid.getAsLong(), run, timeouts.exit());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("vm '" + vmName + "': interrupted while ending its swtpm (pid " + swtpmPid.getAsLong() + ")", e);
        }
        try {
            delete(run.path());
        } catch (IOException e) {
            throw new VmException("vm '" + vmName + "': cannot remove its run directory " + run.path() + ": " + e, e);
        }
    }

    /** Called by a handle once its QEMU has exited. */
    void release(QemuVm vm) throws VmException {
        vm.close();
        cleanUp(vm.name());
    }

    /** The pid in the run directory's pidfile, if that process is alive and is this VM's QEMU. */
    private static OptionalLong runningQemu(RunDir run) {
        OptionalLong pid = PidFile.read(run.qemuPidFile());
        return pid.isPresent() && isOurQemu(pid.getAsLong(), run) ? pid : OptionalLong.empty();
    }

    /** Guards against a recycled pid: the process must be alive and have been given this run directory's pidfile. */
    static boolean isOurQemu(long pid, RunDir run) {
        return Processes.isAlive(pid) && Processes.arguments(pid)
                .map(args -> PidFile.followedBy(args, "-pidfile", run.qemuPidFile().toString()))
                .orElse(false);
    }

    private static void deleteQuietly(Path dir) {
        try {
            delete(dir);
        } catch (IOException e) {
            // Best effort while undoing a failed start; the start error is what the caller needs.
        }
    }

    private static void delete(Path dir) throws IOException {
        for (int attempt = 1; ; attempt++) {
            if (!Files.exists(dir)) {
                return;
            }
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
                return;
            } catch (NoSuchFileException e) {
                // A daemon that was just exiting removed its own socket or pidfile while we walked.
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }
}
