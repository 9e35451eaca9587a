package dev.ferry.vm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.proc.Processes;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpClosedException;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpTimeoutException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A handle on one running QEMU, held through its QMP connection. A watcher thread waits for the
 * connection to close: that is how the handle learns QEMU died, and it then tells the
 * {@link #onExit} listeners. Stop and destroy end QEMU and then let {@link QemuHost} clean the run
 * directory and the swtpm up.
 */
final class QemuVm implements VmHandle {
    private final String name;
    private final RunDir run;
    private final long pid;
    private final QmpClient qmp;
    private final QemuHost host;
    private final QemuHost.Timeouts timeouts;
    private final List<Consumer<VmState>> exitListeners = new ArrayList<>();
    private volatile boolean exitAsked;
    private volatile boolean released;
    /** Stopped or destroyed through this handle, and cleaned up. */
    private volatile boolean ended;
    /** Set once by the watcher when QEMU is gone; guarded by {@code exitListeners}. */
    private VmState exited;

    QemuVm(String name, RunDir run, long pid, QmpClient qmp, QemuHost host, QemuHost.Timeouts timeouts) {
        this.name = name;
        this.run = run;
        this.pid = pid;
        this.qmp = qmp;
        this.host = host;
        this.timeouts = timeouts;
        qmp.subscribe(event -> {
            if (event.is(QmpEvent.SHUTDOWN)) {
                exitAsked = true;
            }
        });
        Thread watcher = new Thread(this::watch, "vm-watch-" + name);
        watcher.setDaemon(true);
        watcher.start();
    }

    private void watch() {
        while (true) {
            try {
                qmp.expectEvent(event -> false).await(Duration.ofDays(1));
            } catch (QmpClosedException e) {
                break;
            } catch (QmpTimeoutException e) {
                continue;
            } catch (QmpException e) {
                return;
            }
        }
        if (released && Processes.isAlive(pid)) {
            // The handle was closed; QEMU lives on and is no longer ours to report on.
            return;
        }
        VmState state = exitState();
        List<Consumer<VmState>> listeners;
        synchronized (exitListeners) {
            exited = state;
            listeners = List.copyOf(exitListeners);
        }
        listeners.forEach(listener -> listener.accept(state));
    }

    private VmState exitState() {
        return exitAsked ? VmState.STOPPED : VmState.CRASHED;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public VmState state() throws VmException {
        if (!isAlive()) {
            return exitState();
        }
        JsonNode status;
        try {
            status = qmp.execute("query-status", null, timeouts.command());
        } catch (QmpClosedException e) {
            return exitState();
        } catch (QmpException e) {
            throw new VmException("vm '" + name + "': cannot read its state from QEMU: " + e.getMessage(), e);
        }
        return switch (status.path("status").asText()) {
            case "running" -> VmState.RUNNING;
            case "shutdown" -> VmState.STOPPING;
            case "internal-error", "guest-panicked" -> VmState.CRASHED;
            case "inmigrate", "postmigrate", "finish-migrate" -> VmState.MIGRATING;
            default -> VmState.PAUSED;
        };
    }

    @Override
    public void pause() throws VmException {
        command("stop", "pause");
    }

    @Override
    public void resume() throws VmException {
        command("cont", "resume");
    }

    private void command(String command, String what) throws VmException {
        checkHeld(what);
        if (!isAlive()) {
            throw new VmException("vm '" + name + "': cannot " + what + ": QEMU is not running (" + exitState().wireName()
                    + "); start it again");
        }
        try {
            qmp.execute(command, null, timeouts.command());
        } catch (QmpException e) {
            throw new VmException("vm '" + name + "': cannot " + what + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void stop(Duration grace) throws VmException {
        if (ended) {
            return;
        }
        checkHeld("stop");
        exitAsked = true;
        try {
            if (isAlive()) {
                quietly("system_powerdown");
                if (!Processes.awaitExit(pid, grace)) {
                    // Guests without ACPI (like the test guest) never power off; QEMU must quit.
                    quitOrKill();
                }
            }
            host.release(this);
            ended = true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("vm '" + name + "': interrupted while stopping; QEMU pid " + pid + " may still run", e);
        }
    }

    @Override
    public void destroy() throws VmException {
        if (ended) {
            return;
        }
        checkHeld("destroy");
        exitAsked = true;
        try {
            if (Processes.isAlive(pid)) {
                quitOrKill();
            }
            host.release(this);
            ended = true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("vm '" + name + "': interrupted while destroying; QEMU pid " + pid + " may still run", e);
        }
    }

    private void quitOrKill() throws InterruptedException, VmException {
        if (qmp.isOpen()) {
            quietly("quit");
            if (Processes.awaitExit(pid, timeouts.exit())) {
                return;
            }
        }
        if (QemuHost.isOurQemu(pid, run)) {
            Processes.kill(pid);
        }
        if (!Processes.awaitExit(pid, timeouts.exit())) {
            throw new VmException("vm '" + name + "': QEMU pid " + pid + " did not exit after SIGKILL; check it with ps");
        }
    }

    /** Sends a command whose reply may never come because QEMU goes away. */
    private void quietly(String command) {
        try {
            qmp.execute(command, null, timeouts.command());
        } catch (QmpException e) {
            // Closed or refused: the caller waits for the exit and escalates.
        }
    }

    private void checkHeld(String what) throws VmException {
        if (released && !ended) {
            throw new VmException("vm '" + name + "': cannot " + what + " through a closed handle; reattach to it first");
        }
    }

    @Override
    public boolean isAlive() {
        return qmp.isOpen() && Processes.isAlive(pid);
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public Path runDir() {
        return run.path();
    }

    @Override
    public Path serialLog() {
        return run.serialLog();
    }

    @Override
    public QmpClient qmp() {
        return qmp;
    }

    @Override
    public void onExit(Consumer<VmState> listener) {
        VmState already;
        synchronized (exitListeners) {
            already = exited;
            if (already == null) {
                exitListeners.add(listener);
            }
        }
        if (already != null) {
            listener.accept(already);
        }
    }

    RunDir run() {
        return run;
    }

    @Override
    public void close() {
        released = true;
        qmp.close();
    }

    @Override
    public String toString() {
        return "vm '" + name + "' (pid " + pid + ")";
    }
}
