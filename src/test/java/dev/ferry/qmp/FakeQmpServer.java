package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Speaks the server side of QMP on a Unix socket, scripted by the test: it sends a greeting,
 * answers {@code qmp_capabilities} by itself, and queues every other command for the test, which
 * answers with {@link #reply}, {@link #error}, sends {@link #event}s or {@link #hangUp}s.
 */
public final class FakeQmpServer implements AutoCloseable {
    static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7},"
            + " \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}";

    private final ObjectMapper mapper = new ObjectMapper();
    private final Path path;
    private final ServerSocketChannel server;
    private final BlockingQueue<JsonNode> commands = new LinkedBlockingQueue<>();
    private final CountDownLatch negotiated = new CountDownLatch(1);
    private final Thread thread;
    private final boolean sendGreeting;
    private volatile SocketChannel client;

    public FakeQmpServer(Path path) throws IOException {
        this(path, true);
    }

    FakeQmpServer(Path path, boolean sendGreeting) throws IOException {
        this.path = path;
        this.sendGreeting = sendGreeting;
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        thread = new Thread(this::serve, "fake-qmp");
        thread.setDaemon(true);
        thread.start();
    }

    public Path path() {
        return path;
    }

    /** The next command the client sent (other than qmp_capabilities), waiting up to 5 s. */
    public JsonNode takeCommand() throws InterruptedException {
        JsonNode command = commands.poll(5, TimeUnit.SECONDS);
        if (command == null) {
            throw new AssertionError("the client sent no command within 5s");
        }
        return command;
    }

    /** The next command the client sent (other than qmp_capabilities), or null when none came within {@code wait}. */
    public JsonNode pollCommand(java.time.Duration wait) throws InterruptedException {
        return commands.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean negotiated() throws InterruptedException {
        return negotiated.await(5, TimeUnit.SECONDS);
    }

    public void reply(JsonNode command, String returnJson) throws IOException {
        send("{\"return\": " + returnJson + ", \"id\": " + command.get("id") + "}");
    }

    public void error(JsonNode command, String errorClass, String description) throws IOException {
        send("{\"id\": " + command.get("id") + ", \"error\": {\"class\": \"" + errorClass + "\", \"desc\": \""
                + description + "\"}}");
    }

    public void event(String name, String dataJson) throws IOException {
        send("{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 250000}, \"event\": \"" + name + "\""
                + (dataJson == null ? "" : ", \"data\": " + dataJson) + "}");
    }

    void send(String json) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap((json + "\r\n").getBytes(StandardCharsets.UTF_8));
        synchronized (this) {
            while (bytes.hasRemaining()) {
                client.write(bytes);
            }
        }
    }

    /** Closes the client's connection, as QEMU does when it exits. */
    void hangUp() throws IOException {
        client.close();
    }

    private void serve() {
        try {
            client = server.accept();
            if (sendGreeting) {
                send(GREETING);
            }
            StringBuilder line = new StringBuilder();
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            while (client.read(buffer.clear()) >= 0) {
                buffer.flip();
                line.append(StandardCharsets.UTF_8.decode(buffer));
                int newline;
                while ((newline = line.indexOf("\n")) >= 0) {
                    handle(mapper.readTree(line.substring(0, newline)));
                    line.delete(0, newline + 1);
                }
            }
        } catch (IOException e) {
            // The test hung up or closed the server.
        }
    }

    private void handle(JsonNode command) throws IOException {
        if (command.path("execute").asText().equals("qmp_capabilities")) {
            reply(command, "{}");
            negotiated.countDown();
        } else {
            commands.add(command);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        if (client != null) {
            client.close();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(path);
    }
}
