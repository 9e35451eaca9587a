package dev.ferry.proc;

import java.nio.charset.StandardCharsets;

/** Keeps the last {@code capacity} bytes written to it and counts all of them. Thread-safe. */
final class TailBuffer {
    private final byte[] ring;
    private int next;
    private long total;

    TailBuffer(int capacity) {
        this.ring = new byte[capacity];
    }

    synchronized void write(byte[] data, int offset, int length) {
        total += length;
        if (length >= ring.length) {
            System.arraycopy(data, offset + length - ring.length, ring, 0, ring.length);
            next = 0;
            return;
        }
        int first = Math.min(length, ring.length - next);
        System.arraycopy(data, offset, ring, next, first);
        System.arraycopy(data, offset + first, ring, 0, length - first);
        next = (next + length) % ring.length;
    }

    synchronized Output snapshot() {
        int kept = (int) Math.min(total, ring.length);
        byte[] tail = new byte[kept];
        if (total <= ring.length) {
            System.arraycopy(ring, 0, tail, 0, kept);
        } else {
            System.arraycopy(ring, next, tail, 0, ring.length - next);
            System.arraycopy(ring, 0, tail, ring.length - next, next);
        }
        return new Output(new String(tail, StandardCharsets.UTF_8), total > ring.length, total);
    }
}
