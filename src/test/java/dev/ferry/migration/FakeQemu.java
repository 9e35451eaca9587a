package dev.ferry.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.FakeQmpServer;
import dev.ferry.qmp.QmpClient;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A QEMU without QEMU: a {@link VmHandle} whose QMP connection goes to a {@link FakeQmpServer}
 * that answers by itself, as a source or incoming QEMU would, and records every command.
 */
final class FakeQemu implements VmHandle {
    private final String name;
    private final Path dir;
    private final FakeQmpServer server;
    private final QmpClient qmp;
    private final Thread responder;
    /** Every QMP command, by name, in the order QEMU received them. */
    final List<String> commands = new CopyOnWriteArrayList<>();
    /** What {@code query-migrate} answers as its status. */
    volatile String migration = "none";
    volatile boolean running;
    volatile boolean alive = true;
    volatile boolean destroyed;
    /** When set, {@link #resume()} throws it. */
    volatile VmException resumeFailure;
    /** Runs when the guest is resumed through the handle, before it runs. */
    volatile Runnable onResume = () -> {};
    /** A QMP command QEMU answers with an error. */
    volatile String failing;

    FakeQemu(String name, Path dir, boolean running) throws Exception {
        this.name = name;
        this.dir = Files.createDirectories(dir.resolve(name + "-qemu"));
        this.running = running;
        Files.writeString(serialLog(), "Linux version 6.1 booted\n");
        this.server = new FakeQmpServer(this.dir.resolve("qmp.sock"));
        this.responder = new Thread(this::answer, "fake-qemu-" + name);
        responder.setDaemon(true);
        responder.start();
        this.qmp = QmpClient.connect(server.path(), Duration.ofSeconds(5));
    }

    private void answer() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                JsonNode command = server.pollCommand(Duration.ofMillis(100));
                if (command != null) {
                    String name = command.path("execute").asText();
                    commands.add(name);
                    if (name.equals(failing)) {
                        server.error(command, "GenericError", name + " failed: Address already in use");
                    } else {
                        server.reply(command, replyTo(name));
                    }
                }
            }
        } catch (InterruptedException | IOException e) {
            // Closed by the test.
        }
    }

    private String replyTo(String command) {
        return switch (command) {
            case "query-status" -> "{\"status\": \"" + (running ? "running" : "paused") + "\", \"running\": " + running
                    + "}";
            case "query-migrate" -> "{\"status\": \"" + migration + "\", \"downtime\": 42, \"socket-address\":"
                    + " [{\"type\": \"inet\", \"host\": \"127.0.0.1\", \"port\": \"4444\"}]}";
            // A source QEMU with pause-before-switchover: it stops at pre-switchover and finishes when told.
            case "migrate" -> {
                migration = "pre-switchover";
                running = false;
                yield "{}";
            }
            case "migrate-continue" -> {
                migration = "completed";
                yield "{}";
            }
            case "cont" -> {
                running = true;
                yield "{}";
            }
            case "migrate_cancel" -> {
                migration = "cancelled";
                yield "{}";
            }
            default -> "{}";
        };
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public VmState state() {
        return !alive ? VmState.STOPPED : running ? VmState.RUNNING : VmState.PAUSED;
    }

    @Override
    public void pause() {
        running = false;
    }

    @Override
    public void resume() throws VmException {
        if (resumeFailure != null) {
            throw resumeFailure;
        }
        onResume.run();
        running = true;
    }

    @Override
    public void stop(Duration grace) {
        destroy();
    }

    @Override
    public void destroy() {
        alive = false;
        destroyed = true;
    }

    @Override
    public boolean isAlive() {
        return alive;
    }

    @Override
    public long pid() {
        return 4242;
    }

    @Override
    public Path runDir() {
        return dir;
    }

    @Override
    public Path serialLog() {
        return dir.resolve("serial.log");
    }

    @Override
    public QmpClient qmp() {
        return qmp;
    }

    @Override
    public void close() {
        responder.interrupt();
        qmp.close();
        try {
            server.close();
        } catch (IOException e) {
            // The test is over.
        }
    }
}
