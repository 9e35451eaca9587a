package dev.ferry.migration;

import dev.ferry.device.disk.DiskException;
import dev.ferry.device.disk.DiskImage;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.device.disk.DiskSpaceRule;
import dev.ferry.device.disk.NbdExport;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.qmp.QmpClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The destination's side of copying local disks: room for the copies, the target images (made
 * before QEMU starts), their NBD exports on the incoming QEMU, closing the exports before the
 * guest resumes, and removing everything when the migration is rolled back.
 */
final class IncomingDisks {
    private final DiskImages images;
    private final Map<String, Path> targets;
    private final List<Path> created = new ArrayList<>();
    private NbdExport exports;

    private IncomingDisks(DiskImages images, Map<String, Path> targets) {
        this.images = images;
        this.targets = targets;
    }

    /** Why the copies cannot be made here: no room, a target already there, or nothing known about a source. */
    static List<Blocker> check(DiskImages images, LocalDisks.Planned plan, Map<String, DiskImage> sources) {
        List<Blocker> blockers = new ArrayList<>();
        long needed = 0;
        for (Map.Entry<String, Path> t : plan.targets().entrySet()) {
            String device = "device '" + t.getKey() + "' (disk, local)";
            DiskImage source = sources.get(t.getKey());
            if (source == null) {
                blockers.add(new Blocker("destination", device, "the source sent no size for this local disk"));
                continue;
            }
            if (Files.exists(t.getValue())) {
                blockers.add(new Blocker("destination", device, "an image " + t.getValue()
                        + " already exists on this host; remove it if it is a leftover"));
                continue;
            }
            Path dir = existingAncestor(t.getValue().getParent());
            try {
                long usable = images.usableSpace(dir) - needed;
                DiskSpaceRule.refusal(t.getKey(), source, false, dir, usable)
                        .ifPresent(why -> blockers.add(new Blocker("destination", device, why)));
                needed += DiskSpaceRule.requiredBytes(source);
            } catch (DiskException e) {
                blockers.add(new Blocker("destination", device, e.getMessage()));
            }
        }
        return blockers;
    }

    /** Creates the target images with the sources' formats and sizes; on failure removes what it made. */
    static IncomingDisks create(DiskImages images, LocalDisks.Planned plan, Map<String, DiskImage> sources)
            throws MigrationException {
        IncomingDisks disks = new IncomingDisks(images, plan.targets());
        try {
            for (Map.Entry<String, Path> t : plan.targets().entrySet()) {
                DiskImage source = sources.get(t.getKey());
                if (source == null) {
                    throw new MigrationException("local disk '" + t.getKey() + "': the source sent no size for it");
                }
                Files.createDirectories(t.getValue().getParent());
                images.create(t.getValue(), source.format(), source.virtualSize());
                disks.created.add(t.getValue());
            }
            return disks;
        } catch (IOException | DiskException | MigrationException e) {
            disks.abort(() -> false);
            throw e instanceof MigrationException m ? m
                    : new MigrationException("creating the local disks' copies failed: " + e.getMessage(), e);
        }
    }

    boolean any() {
        return !targets.isEmpty();
    }

    /** Exports every target image of the incoming QEMU; returns the NBD URIs by device id. */
    Map<String, String> export(QmpClient qmp, String address) throws MigrationException {
        Map<String, String> endpoints = new LinkedHashMap<>();
        if (targets.isEmpty()) {
            return endpoints;
        }
        exports = new NbdExport(qmp);
        try {
            exports.startServer(address, 0);
            for (String id : targets.keySet()) {
                endpoints.put(id, exports.add(id, id).uri());
            }
            return endpoints;
        } catch (DiskException e) {
            throw new MigrationException("exporting the local disks' copies failed: " + e.getMessage(), e);
        }
    }

    /** Closes the exports: the source has finished writing; nothing may write behind the guest's back. */
    void closeExports() throws MigrationException {
        if (exports == null) {
            return;
        }
        try {
            for (String id : targets.keySet()) {
                exports.remove(id);
            }
            exports.stopServer();
        } catch (DiskException e) {
            throw new MigrationException("closing the local disks' exports failed: " + e.getMessage(), e);
        }
    }

    /**
     * Rollback: exports dropped, copies deleted. Returns what could not be undone, if anything.
     * An incoming QEMU that already exited (it does when the source cancels) took its exports along.
     */
    List<String> abort(BooleanSupplier qemuAlive) {
        List<String> problems = new ArrayList<>();
        if (exports != null && qemuAlive.getAsBoolean()) {
            try {
                exports.abort(List.copyOf(targets.keySet()));
            } catch (DiskException e) {
                if (qemuAlive.getAsBoolean()) {
                    problems.add(e.getMessage());
                }
            }
        }
        for (Path p : created) {
            try {
                images.delete(p);
            } catch (DiskException e) {
                problems.add("cannot remove " + p + ": " + e.getMessage());
            }
        }
        created.stream().map(Path::getParent).distinct().forEach(dir -> {
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                // Not empty: something else of this VM's is there; leave it.
            }
        });
        return problems;
    }

    private static Path existingAncestor(Path dir) {
        Path p = dir.toAbsolutePath();
        while (p != null && !Files.isDirectory(p)) {
            p = p.getParent();
        }
        return p == null ? Path.of("/") : p;
    }
}
