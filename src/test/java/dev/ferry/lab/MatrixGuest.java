package dev.ferry.lab;

import dev.ferry.guest.GuestConsole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The one test guest the fault matrix and the crash harness migrate, with a shared data disk, a user-mode NIC, a swtpm vTPM
 * and an {@code external} device run by the lab's fake tool. It bounces between the lab's two
 * hosts; {@link #owner} says where it runs now, and the guest remembers the PCRs it booted with
 * and the highest disk record it was seen to write anywhere.
 */
public final class MatrixGuest {
    public static final String VM = "fm";
    public static final String TOOL_KIND = "fault";

    private final Lab lab;
    private final Path disk;
    private String owner = Lab.A;
    private Map<Integer, String> pcrsAtBoot = Map.of();
    private long highestWrote;

    private MatrixGuest(Lab lab, Path disk) {
        this.lab = lab;
        this.disk = disk;
    }

    /** Creates the data disk and boots the guest on {@code host-a}. */
    public static MatrixGuest boot(Lab lab) throws Exception {
        MatrixGuest guest = new MatrixGuest(lab, TestGuest.createDisk(lab.root().resolve("data.qcow2")));
        guest.bootOnA();
        return guest;
    }

    public Path disk() {
        return disk;
    }

    public String owner() {
        return owner;
    }

    public void owner(String host) {
        owner = host;
    }

    public Map<Integer, String> pcrsAtBoot() {
        return pcrsAtBoot;
    }

    public long highestWrote() {
        return highestWrote;
    }

    /** Raises the highest {@code wrote N} seen anywhere to what {@code log} says. */
    public void sawWrites(GuestConsole log) {
        highestWrote = Math.max(highestWrote, log.lastWrote());
    }

    /** Reads every serial log either host has (run directories and kept logs) for records written. */
    public void harvestWrites() throws IOException {
        try (Stream<Path> files = Files.walk(lab.root())) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith("serial.log")).toList()) {
                try {
                    sawWrites(GuestConsole.read(p));
                } catch (NoSuchFileException e) {
                    // Removed while we walked: its VM went away and its log with it.
                }
            }
        }
    }

    /**
     * Back to a known state after a cell that broke something: the tool and links healed, both
     * agents and everything they started killed, their data directories wiped, and the guest booted
     * again on host-a from the same disk (it resumes writing after its highest record).
     */
    public void reset() throws Exception {
        harvestWrites();
        lab.tool().reset();
        for (String host : lab.hosts()) {
            lab.linkTo(host).release();
            lab.linkTo(host).heal();
        }
        lab.releaseQemuHolds();
        lab.wipe();
        bootOnA();
    }

    private void bootOnA() throws Exception {
        String spec = TestGuest.named(VM).disk(disk).external("fpga0", TOOL_KIND).yaml();
        GuestConsole up = TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, spec), true, 3);
        owner = Lab.A;
        pcrsAtBoot = up.pcrs();
        sawWrites(up);
    }
}
