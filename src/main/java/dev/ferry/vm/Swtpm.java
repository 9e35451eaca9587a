package dev.ferry.vm;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Starts and ends the swtpm behind a VM's TPM. swtpm runs as a daemon whose state, control socket,
 * pidfile and log are in the VM's {@link RunDir}; {@code --terminate} makes it exit when QEMU
 * disconnects, so a QEMU that dies does not leave it behind. A fresh state directory needs no
 * {@code swtpm_setup}: swtpm creates the TPM 2 state when QEMU first initialises it (the TPM then
 * has no endorsement key certificate, which the guest does not need).
 */
final class Swtpm {
    private final ProcessRunner runner;
    private final Path binary;
    private final Duration timeout;

    Swtpm(ProcessRunner runner, Path binary, Duration timeout) {
        this.runner = runner;
        this.binary = binary;
        this.timeout = timeout;
    }

    static List<String> argv(Path binary, RunDir run, Path encryptionKeyFile) {
        List<String> argv = new ArrayList<>(List.of(binary.toString(), "socket", "--tpm2",
                "--tpmstate", "dir=" + run.swtpmStateDir(),
                "--ctrl", "type=unixio,path=" + run.swtpmSocket(),
                "--pid", "file=" + run.swtpmPidFile(),
                "--log", "file=" + run.swtpmLog(),
                "--daemon", "--terminate"));
        if (encryptionKeyFile != null) {
            argv.addAll(List.of("--key", "file=" + encryptionKeyFile + ",mode=aes-256-cbc"));
        }
        return argv;
    }

    /** Starts swtpm for {@code vmName}; returns its pid once its control socket exists. */
    long start(String vmName, RunDir run, DeviceSpec.Swtpm spec) throws VmException, InterruptedException {
        try {
            Files.createDirectories(run.swtpmStateDir());
            ProcResult result = runner.run(Command.of(argv(binary, run, spec.encryptionKeyFile())).timeout(timeout));
            if (!result.ok()) {
                throw new VmException("vm '" + vmName + "': swtpm did not start: " + result.describe() + logTail(run));
            }
        } catch (IOException e) {
            throw new VmException("vm '" + vmName + "': cannot start swtpm (" + binary + "): " + e.getMessage()
                    + "; install swtpm or configure its path", e);
        }
        OptionalLong pid = PidFile.read(run.swtpmPidFile());
        if (pid.isEmpty() || !Files.exists(run.swtpmSocket())) {
            throw new VmException("vm '" + vmName + "': swtpm exited at once without a pidfile or socket" + logTail(run));
        }
        return pid.getAsLong();
    }

    /** The pid in the swtpm pidfile, if that process is alive and is the swtpm of this run directory. */
    static OptionalLong running(RunDir run) {
        OptionalLong pid = PidFile.read(run.swtpmPidFile());
        if (pid.isPresent() && isOurs(pid.getAsLong(), run)) {
            return pid;
        }
        return OptionalLong.empty();
    }

    static boolean isOurs(long pid, RunDir run) {
        return Processes.isAlive(pid) && Processes.arguments(pid)
                .map(args -> PidFile.followedBy(args, "--pid", "file=" + run.swtpmPidFile()))
                .orElse(false);
    }

    /** Ends swtpm: SIGTERM (it removes its socket and pidfile), then SIGKILL if it lingers. */
    static void stop(long pid, RunDir run, Duration patience) throws InterruptedException {
        if (!isOurs(pid, run)) {
            return;
        }
        Processes.terminate(pid);
        if (!Processes.awaitExit(pid, patience)) {
            Processes.kill(pid);
            Processes.awaitExit(pid, patience);
        }
    }

    private static String logTail(RunDir run) {
        try {
            String log = Files.exists(run.swtpmLog()) ? Files.readString(run.swtpmLog()).strip() : "";
            return log.isEmpty() ? "" : "; its log says: " + log.substring(Math.max(0, log.length() - 500));
        } catch (IOException e) {
            return "";
        }
    }
}
