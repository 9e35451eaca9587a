package dev.ferry.device.disk;

import dev.ferry.device.DeviceContext;
import dev.ferry.device.DeviceController;
import dev.ferry.device.DeviceException;
import dev.ferry.device.GuestControl;
import dev.ferry.device.Mode;
import dev.ferry.device.Step;
import dev.ferry.device.Verdict;
import dev.ferry.vm.DeviceSpec;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * A disk on this host's local storage, copied live to an image the destination created and
 * exports over NBD: the mirror starts in step 1 and must be in step with the guest's writes
 * before RAM is copied; with the guest paused, step 2 completes it without switching the source
 * onto the copy; a rollback cancels it and leaves the source image as it was.
 */
public final class LocalDiskController implements DeviceController {
    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(60);

    private final DeviceSpec.Disk disk;
    private final GuestControl guest;
    private final Duration readyTimeout;
    private DiskMirror mirror;
    private long copyStartedNanos;

    public LocalDiskController(DeviceSpec.Disk disk, GuestControl guest, Duration readyTimeout) {
        this.disk = disk;
        this.guest = guest;
        this.readyTimeout = readyTimeout;
    }

    @Override
    public Verdict check(DeviceContext ctx) {
        return Verdict.ok();
    }

    @Override
    public void preSuspend(DeviceContext ctx) throws DeviceException {
        if (ctx.mode() == Mode.SAVE) {
            return; // a save keeps the image where it is; restore opens it again
        }
        if (ctx.endpoint() == null) {
            throw new DeviceException("the destination prepared no export for local disk '" + disk.id() + "'");
        }
        mirror = new DiskMirror(guest.qmp());
        copyStartedNanos = System.nanoTime();
        try {
            mirror.start(List.of(new DiskMirror.Disk(disk.id(), disk.id(), target(ctx.endpoint()).withTls(ctx.streamTls()))),
                    ctx.copyBytesPerSecond());
        } catch (DiskException e) {
            throw new DeviceException("starting the copy of " + disk.path() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void awaitPreSuspend(DeviceContext ctx) throws DeviceException {
        if (mirror == null) {
            return;
        }
        try {
            long[] total = new long[1];
            mirror.awaitReady(readyTimeout, ctx.stallTimeout(), ctx.receiver(), p -> {
                total[0] = p.totalBytes();
                ctx.progress(p.fraction());
            });
            double seconds = Math.max(0.001, (System.nanoTime() - copyStartedNanos) / 1e9);
            ctx.message(String.format("copied %.1f MiB of %s in %.1f s (%.1f MiB/s) before the RAM copy",
                    total[0] / 1048576.0, disk.path().getFileName(), seconds, total[0] / 1048576.0 / seconds));
        } catch (DiskException e) {
            throw new DeviceException("copying " + disk.path() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void postSuspend(DeviceContext ctx) throws DeviceException {
        if (mirror == null) {
            return;
        }
        try {
            mirror.complete(JOB_TIMEOUT);
        } catch (DiskException e) {
            throw new DeviceException("finishing the copy of " + disk.path() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void recover(DeviceContext ctx, Step lastGoodStep) throws DeviceException {
        try {
            if (mirror == null) {
                // After an agent restart this controller never saw the job: find it by its name.
                DiskMirror.cancelAll(guest.qmp(), List.of(disk.id()), JOB_TIMEOUT);
                return;
            }
            mirror.cancel(JOB_TIMEOUT);
        } catch (DiskException e) {
            throw new DeviceException("cancelling the copy of " + disk.path() + ": " + e.getMessage(), e);
        }
    }

    /** The export {@code nbd://host:port/name} the destination prepared. */
    static NbdTarget target(String endpoint) throws DeviceException {
        URI uri = URI.create(endpoint);
        if (!"nbd".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 0 || uri.getPath().length() < 2) {
            throw new DeviceException("the destination's export '" + endpoint + "' is not nbd://host:port/name");
        }
        String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
        return new NbdTarget(host, uri.getPort(), uri.getPath().substring(1));
    }
}
