package dev.ferry.migration;

import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.PeerProtocol.Prepared;
import dev.ferry.migration.PeerProtocol.Switchover;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * A save's destination: a file. QEMU appends its stream to {@code FILE.partial}, which becomes
 * {@code FILE} only when everything is in, so a failed save never leaves a file that looks whole.
 */
public final class FileDestination implements Destination {
    private final Path file;
    private final Path partial;
    private final String vm;
    private final String uuid;
    private final String spec;
    private final long memoryBytes;
    private final Clock clock;

    public FileDestination(Path file, String vm, String uuid, String spec, long memoryBytes, Clock clock) {
        this.file = file.toAbsolutePath();
        this.partial = this.file.resolveSibling(this.file.getFileName() + ".partial");
        this.vm = vm;
        this.uuid = uuid;
        this.spec = spec;
        this.memoryBytes = memoryBytes;
        this.clock = clock;
    }

    @Override
    public List<Blocker> check() {
        List<Blocker> blockers = new ArrayList<>();
        Path dir = file.getParent();
        if (Files.exists(file)) {
            blockers.add(new Blocker("destination", null, file + " already exists; remove it or choose another file"));
        }
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            blockers.add(new Blocker("destination", null, "directory " + dir + " does not exist or is not writable"));
            return blockers;
        }
        try {
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < memoryBytes) {
                blockers.add(new Blocker("destination", null, dir + " has " + free / (1024 * 1024)
                        + " MiB free; the VM's RAM needs up to " + memoryBytes / (1024 * 1024) + " MiB"));
            }
        } catch (IOException e) {
            blockers.add(new Blocker("destination", null, "cannot tell the free space of " + dir + ": " + e.getMessage()));
        }
        return blockers;
    }

    @Override
    public Prepared prepare() throws MigrationException {
        try {
            SaveFile.writeHead(partial, vm, uuid, spec, clock.instant());
        } catch (IOException e) {
            throw new MigrationException("cannot write " + partial + ": " + e.getMessage(), e);
        }
        // The disks stay where they are: a save holds RAM and device state, restore reopens the images.
        return new Prepared("exec:cat >> " + SaveFile.shellQuote(partial.toString()), java.util.Map.of());
    }

    @Override
    public Switchover switchover() throws MigrationException {
        try {
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new NotTakenException("cannot move " + partial + " into place: " + e.getMessage());
        }
        return new Switchover(false, List.of("saved to " + file));
    }

    @Override
    public void abort() throws MigrationException {
        try {
            Files.deleteIfExists(partial);
        } catch (IOException e) {
            throw new MigrationException("cannot remove " + partial + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }
}
