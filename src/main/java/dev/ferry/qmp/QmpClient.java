package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A QMP connection to one QEMU. Thread-safe: any number of threads may run commands at once; each
 * carries an {@code id} and its reply is matched by it. One reader thread reads replies and events.
 * When QEMU goes away, every pending command fails at once with {@link QmpClosedException}.
 *
 * <pre>{@code
 * try (QmpClient qmp = QmpClient.connect(socket, Duration.ofSeconds(5))) {
 *     EventWaiter resumed = qmp.expectEvent(QmpEvent.RESUME);
 *     qmp.execute("cont");
 *     resumed.await(Duration.ofSeconds(5));
 * }
 * }</pre>
 */
public final class QmpClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QmpClient.class);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final long CONNECT_RETRY_MILLIS = 25;

    private final ObjectMapper mapper;
    private final Path socketPath;
    private final String name;
    private final SocketChannel channel;
    private final EventBus events;
    private final AtomicLong nextId = new AtomicLong(1);
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final Object writeLock = new Object();
    private final Object stateLock = new Object();
    private volatile boolean closed;
    private String closeReason;

    private record Pending(String command, CompletableFuture<JsonNode> reply) {
    }

    private QmpClient(Path socketPath, SocketChannel channel, ObjectMapper mapper) {
        this.socketPath = socketPath;
        this.name = socketPath.toString();
        this.channel = channel;
        this.mapper = mapper;
        this.events = new EventBus(name);
        Thread reader = new Thread(this::readLoop, "qmp-reader-" + socketPath.getFileName());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Connects to QEMU's QMP socket, reads the greeting and leaves negotiation mode. Retries while
     * the socket does not exist yet or refuses connections, as just after QEMU started.
     */
    public static QmpClient connect(Path socket, Duration timeout) throws QmpException {
        return connect(socket, timeout, new ObjectMapper());
    }

    static QmpClient connect(Path socket, Duration timeout, ObjectMapper mapper) throws QmpException {
        long deadline = System.nanoTime() + timeout.toNanos();
        QmpClient client = new QmpClient(socket, open(socket, timeout, deadline), mapper);
        try {
            client.awaitGreeting(deadline, timeout);
            client.execute("qmp_capabilities", null, remaining(deadline));
            return client;
        } catch (QmpException e) {
            client.close();
            throw e;
        }
    }

    private static SocketChannel open(Path socket, Duration timeout, long deadline) throws QmpException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        while (true) {
            SocketChannel channel = null;
            try {
                channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                channel.connect(address);
                return channel;
            } catch (IOException e) {
                closeQuietly(channel);
                if (System.nanoTime() - deadline >= 0) {
                    throw new QmpException("cannot connect to QMP socket " + socket + " within " + timeout.toMillis()
                            + "ms (" + e.getMessage() + "); is QEMU running with -qmp unix:" + socket + ",server=on?", e);
                }
            }
            try {
                Thread.sleep(CONNECT_RETRY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QmpException("interrupted while connecting to QMP socket " + socket, e);
            }
        }
    }

    private void awaitGreeting(long deadline, Duration timeout) throws QmpException {
        try {
            greeting.get(remaining(deadline).toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new QmpTimeoutException("no QMP greeting on " + name + " within " + timeout.toMillis()
                    + "ms; is another client connected to it?");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException("interrupted while waiting for the QMP greeting on " + name, e);
        } catch (ExecutionException e) {
            throw (QmpException) e.getCause();
        }
    }

    /** The greeting's {@code QMP} object: {@code {"version": {"qemu": {...}, "package": ...}, "capabilities": [...]}}. */
    public JsonNode greeting() {
        return greeting.getNow(null);
    }

    /** Runs a command without arguments, waiting at most {@link #DEFAULT_TIMEOUT}; returns its {@code return} value. */
    public JsonNode execute(String command) throws QmpException {
        return execute(command, null, DEFAULT_TIMEOUT);
    }

    /** Runs a command, waiting at most {@link #DEFAULT_TIMEOUT}. */
    public JsonNode execute(String command, Object arguments) throws QmpException {
        return execute(command, arguments, DEFAULT_TIMEOUT);
    }

    /**
     * Runs {@code command} and returns its {@code return} value.
     *
     * @param arguments a record or bean Jackson can serialize, a {@code Map}, an {@code ObjectNode}, or null
     * @throws QmpErrorException   when QEMU answered with an error
     * @throws QmpTimeoutException when no reply came within {@code timeout} (the command may still run in QEMU)
     * @throws QmpClosedException  when the connection is or becomes closed before the reply
     */
    public JsonNode execute(String command, Object arguments, Duration timeout) throws QmpException {
        Objects.requireNonNull(command, "command");
        long id = nextId.getAndIncrement();
        ObjectNode message = mapper.createObjectNode();
        message.put("execute", command);
        if (arguments != null) {
            JsonNode args = mapper.valueToTree(arguments);
            if (!args.isObject()) {
                throw new IllegalArgumentException("arguments of qmp command '" + command + "' must serialize to a JSON object, not " + args.getNodeType());
            }
            message.set("arguments", args);
        }
        message.put("id", id);
        if (Thread.currentThread().isInterrupted()) {
            // Writing from an interrupted thread would close the channel for every other caller.
            throw new QmpException("interrupted before sending qmp command '" + command + "' on " + name);
        }
        Pending call = new Pending(command, new CompletableFuture<>());
        synchronized (stateLock) {
            if (closed) {
                throw new QmpClosedException("cannot run qmp command '" + command + "': " + closeReason);
            }
            pending.put(id, call);
        }
        try {
            send(message);
            return call.reply().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new QmpTimeoutException("qmp command '" + command + "' got no reply within " + timeout.toMillis()
                    + "ms on " + name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException("interrupted while waiting for qmp command '" + command + "' on " + name, e);
        } catch (ExecutionException e) {
            throw (QmpException) e.getCause();
        } finally {
            pending.remove(id);
        }
    }

    private void send(ObjectNode message) throws QmpException {
        try {
            byte[] json = mapper.writeValueAsBytes(message);
            ByteBuffer buffer = ByteBuffer.allocate(json.length + 1).put(json).put((byte) '\n').flip();
            log.trace("{} <- {}", name, message);
            synchronized (writeLock) {
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
        } catch (IOException e) {
            // The reader sees the same broken connection and fails every pending call, this one too.
            shutDown("QEMU closed the QMP connection", e);
        }
    }

    /**
     * Calls {@code listener} with every event from now on, in order, on an event thread (so it may
     * run commands itself). Close the returned handle to unsubscribe.
     */
    public AutoCloseable subscribe(Consumer<QmpEvent> listener) {
        return events.subscribe(Objects.requireNonNull(listener, "listener"));
    }

    /** Starts listening for the first event named {@code eventName}; create it before the command that causes it. */
    public EventWaiter expectEvent(String eventName) {
        return events.register(new EventWaiter(eventName + " event", name, event -> event.is(eventName)));
    }

    /** Starts listening for the first event matching {@code match}; create it before the command that causes it. */
    public EventWaiter expectEvent(Predicate<QmpEvent> match) {
        return events.register(new EventWaiter("matching QMP event", name, Objects.requireNonNull(match, "match")));
    }

    /**
     * Waits for the next event matching {@code match}. Only events arriving after this call count;
     * to wait for an event that a command causes, use {@link #expectEvent} before the command.
     */
    public QmpEvent awaitEvent(Predicate<QmpEvent> match, Duration timeout) throws QmpException {
        return expectEvent(match).await(timeout);
    }

    public boolean isOpen() {
        return !closed;
    }

    /** The socket this client is connected to. */
    public Path socket() {
        return socketPath;
    }

    /** Closes the connection; pending commands and waiters fail with {@link QmpClosedException}. QEMU keeps running. */
    @Override
    public void close() {
        shutDown("the QMP client was closed", null);
    }

    private void readLoop() {
        LineFramer framer = new LineFramer();
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        try {
            while (channel.read(buffer.clear()) >= 0) {
                for (byte[] line : framer.feed(buffer.flip())) {
                    dispatch(line);
                }
            }
            shutDown("QEMU closed the QMP connection", null);
        } catch (IOException e) {
            shutDown("QEMU closed the QMP connection", e);
        }
    }

    private void dispatch(byte[] line) throws IOException {
        JsonNode message;
        try {
            message = mapper.readTree(line);
        } catch (IOException e) {
            throw new IOException("unreadable QMP message on " + name + ": "
                    + new String(line, 0, Math.min(line.length, 200), StandardCharsets.UTF_8), e);
        }
        log.trace("{} -> {}", name, message);
        if (message.has("return") || message.has("error")) {
            complete(message);
        } else if (message.has("event")) {
            events.publish(toEvent(message));
        } else if (message.has("QMP")) {
            greeting.complete(message.get("QMP"));
        } else {
            log.warn("ignoring unknown QMP message on {}: {}", name, message);
        }
    }

    private void complete(JsonNode message) {
        JsonNode id = message.get("id");
        Pending call = id != null && id.canConvertToLong() ? pending.remove(id.asLong()) : null;
        if (call == null) {
            // A reply to a command that timed out already.
            log.debug("dropping QMP reply nobody waits for on {}: {}", name, message);
            return;
        }
        JsonNode error = message.get("error");
        if (error != null) {
            call.reply().completeExceptionally(new QmpErrorException(call.command(),
                    error.path("class").asText("GenericError"), error.path("desc").asText("")));
        } else {
            call.reply().complete(message.get("return"));
        }
    }

    private QmpEvent toEvent(JsonNode message) {
        JsonNode stamp = message.path("timestamp");
        Instant timestamp = stamp.has("seconds")
                ? Instant.ofEpochSecond(stamp.path("seconds").asLong(), stamp.path("microseconds").asLong() * 1000)
                : Instant.now();
        JsonNode data = message.has("data") ? message.get("data") : mapper.createObjectNode();
        return new QmpEvent(message.path("event").asText(), data, timestamp);
    }

    private void shutDown(String reason, IOException cause) {
        List<Pending> failed;
        synchronized (stateLock) {
            if (closed) {
                return;
            }
            closed = true;
            closeReason = reason;
            failed = new ArrayList<>(pending.values());
            pending.clear();
        }
        if (cause != null && !(cause instanceof java.nio.channels.AsynchronousCloseException)) {
            log.debug("QMP connection {} ended: {}", name, cause.toString());
        }
        closeQuietly(channel);
        for (Pending call : failed) {
            call.reply().completeExceptionally(
                    new QmpClosedException(reason + " while '" + call.command() + "' was pending (" + name + ")", cause));
        }
        greeting.completeExceptionally(new QmpClosedException(reason + " before its greeting (" + name + ")", cause));
        events.close(new QmpClosedException(reason + " while waiting for an event (" + name + ")", cause));
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                log.debug("closing QMP socket: {}", e.toString());
            }
        }
    }
}
