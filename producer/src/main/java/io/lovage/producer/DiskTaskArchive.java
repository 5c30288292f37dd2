package io.lovage.producer;

import io.lovage.protocol.Json;
import io.lovage.result.TaskArchive;
import io.lovage.result.TaskRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tasks the producer's memory evicted, on disk: lookups of any task within the results' expiry
 * with a heap that does not grow with the number of tasks.
 *
 * <p>The archive is a series of segments. Each is an append-only log of records (JSON) and a hash
 * table from a task id's 64-bit hash to its latest record's place in the log. The table of the
 * segment being written is an array on the heap (16 bytes a slot, at most {@value #MAX_OPEN_MIB}
 * MiB); once the segment is closed its table goes to a file, memory-mapped read-only, so the
 * operating system's page cache holds what is hot and the heap holds nothing per task of a closed
 * segment. (A table written through a shared mapping cost the producer about a tenth of its CPU
 * under REST load: every page the kernel had written back faulted again on the next put.) A put
 * appends and sets one slot; a lookup probes each segment's table, newest first, and reads one
 * record. New records go to the newest segment, so a task's latest record is in the newest segment
 * that knows it. A segment is closed once it spans an eighth of the expiry or its table is full,
 * and deleted once its newest record has expired: expiry drops files, it never scans.
 *
 * <p>The directory is this process's alone and starts empty: the event stream is the truth, and the
 * producer reads it again on start. It is deleted on close. An embedded B-tree (H2's MVStore) was
 * measured first and took about 25 µs per evicted task on this machine, against a few µs here.
 */
final class DiskTaskArchive implements TaskArchive {
  private static final Logger log = LoggerFactory.getLogger(DiskTaskArchive.class);

  /** The largest table of the segment being written, in MiB (a MiB holds 2^16 slots). */
  static final int MAX_OPEN_MIB = 128;

  /** Segments per expiry: at most about an eighth of the expiry is kept past it. */
  private static final int SEGMENTS_PER_EXPIRY = 8;

  private final Path directory;
  private final Duration expires;
  private final Duration segmentSpan;
  private final Clock clock;
  private final int initialSlots;
  private final int maxSlots;
  private final Deque<Segment> segments = new ArrayDeque<>();
  private long nextSegment;
  private boolean closed;

  DiskTaskArchive(Path directory, Duration expires, Clock clock, int initialSlots, int maxSlots) {
    this.directory = directory;
    this.expires = expires;
    this.segmentSpan = expires.dividedBy(SEGMENTS_PER_EXPIRY);
    this.clock = clock;
    this.initialSlots = initialSlots;
    this.maxSlots = maxSlots;
  }

  private static final String DIRECTORY_PREFIX = "lovage-results-";

  /**
   * An empty archive in a new directory {@code parent/lovage-results-<pid>}. The archives that
   * producers no longer running left in {@code parent} (a producer SIGKILLed has no chance to
   * delete its own) are deleted first.
   */
  static DiskTaskArchive create(Path parent, Duration expires, Clock clock) {
    Path directory = parent.resolve(DIRECTORY_PREFIX + ProcessHandle.current().pid());
    deleteLeftBehind(parent);
    try {
      deleteTree(directory);
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create the results archive "
              + directory
              + ": set LOVAGE_RESULTS_ARCHIVE to a writable directory, or to off",
          e);
    }
    log.info("tasks evicted from memory are kept on disk in {} for {}", directory, expires);
    return new DiskTaskArchive(directory, expires, clock, 1 << 16, MAX_OPEN_MIB << 16);
  }

  /**
   * Keeps the record, unless the archive is closed: then its directory is gone. The record is
   * written as JSON before the lock is taken, so lookups do not wait for that.
   */
  @Override
  public void put(TaskRecord record) {
    byte[] json = Json.MAPPER.writeValueAsBytes(record);
    Instant last = record.lastEvent() == null ? clock.instant() : record.lastEvent();
    synchronized (this) {
      if (closed) {
        return;
      }
      dropExpired();
      Segment segment = segments.peekLast();
      if (segment == null || segment.full() || segment.spans(last, segmentSpan)) {
        if (segment != null) {
          segment.seal();
        }
        segment = new Segment(directory, nextSegment++, initialSlots, maxSlots, last);
        segments.addLast(segment);
      }
      segment.put(record.id(), json, last);
    }
  }

  @Override
  public synchronized Optional<TaskRecord> find(String id) {
    long hash = hash(id);
    Iterator<Segment> newestFirst = segments.descendingIterator();
    while (newestFirst.hasNext()) {
      Optional<TaskRecord> found = newestFirst.next().find(id, hash);
      if (found.isPresent()) {
        return found;
      }
    }
    return Optional.empty();
  }

  private void dropExpired() {
    Instant horizon = clock.instant().minus(expires);
    while (!segments.isEmpty() && segments.peekFirst().newest.isBefore(horizon)) {
      segments.pollFirst().delete();
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    segments.forEach(Segment::delete);
    segments.clear();
    try {
      deleteTree(directory);
    } catch (IOException e) {
      log.warn("could not delete the results archive {} error={}", directory, e.toString());
    }
  }

  /** Deletes the {@code lovage-results-<pid>} directories in {@code parent} of pids not alive. */
  private static void deleteLeftBehind(Path parent) {
    try (var entries = Files.list(parent)) {
      for (Path entry : entries.toList()) {
        String name = entry.getFileName().toString();
        String pid =
            name.startsWith(DIRECTORY_PREFIX) ? name.substring(DIRECTORY_PREFIX.length()) : "";
        if (!pid.isEmpty()
            && pid.length() < 19
            && pid.chars().allMatch(Character::isDigit)
            && ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
          try {
            deleteTree(entry);
            log.info("deleted the results archive of a producer no longer running: {}", entry);
          } catch (IOException e) {
            log.warn("could not delete the results archive {} error={}", entry, e.toString());
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      log.warn("could not look for archives left behind in {} error={}", parent, e.toString());
    }
  }

  private static void deleteTree(Path directory) throws IOException {
    if (Files.isDirectory(directory)) {
      try (var files = Files.list(directory)) {
        for (Path file : files.toList()) {
          Files.deleteIfExists(file);
        }
      }
      Files.deleteIfExists(directory);
    }
  }

  /** 64 bits of an id (FNV-1a, then MurmurHash3's finalizer); never 0, which marks a free slot. */
  static long hash(String id) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < id.length(); i++) {
      h = (h ^ id.charAt(i)) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h == 0 ? 1 : h;
  }

  /** One log and its hash table: slots of 16 bytes, the id's hash and the record's place. */
  private static final class Segment {
    private static final int SLOT = 16;
    private static final int BUFFER = 64 * 1024;

    private final Path directory;
    private final long number;
    private final int maxSlots;
    private final FileChannel log;
    private final ByteBuffer pending = ByteBuffer.allocate(BUFFER);
    private long pendingAt;

    /** The open segment's table: a slot's hash, then its record's place in the log. */
    private long[] open;

    /** A closed segment's table, as {@link #open} was, in its file. */
    private MappedByteBuffer closed;

    private int slots;
    private long entries;
    private final Instant oldest;
    private Instant newest;

    Segment(Path directory, long number, int initialSlots, int maxSlots, Instant first) {
      this.directory = directory;
      this.number = number;
      this.maxSlots = maxSlots;
      this.oldest = first;
      this.newest = first;
      try {
        log =
            FileChannel.open(
                directory.resolve(number + ".log"),
                StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      this.open = new long[2 * initialSlots];
      this.slots = initialSlots;
    }

    boolean full() {
      return slots >= maxSlots && entries >= slots / 2;
    }

    boolean spans(Instant last, Duration span) {
      return Duration.between(oldest, last).compareTo(span) > 0;
    }

    void put(String id, byte[] json, Instant last) {
      if (entries + 1 > slots / 2 && slots < maxSlots) {
        grow();
      }
      long hash = hash(id);
      int mask = slots - 1;
      for (int i = (int) hash & mask; ; i = (i + 1) & mask) {
        long slotHash = open[2 * i];
        if (slotHash == 0) {
          entries++;
        } else if (slotHash != hash || !id.equals(read(open[2 * i + 1]).id())) {
          continue;
        }
        open[2 * i] = hash;
        open[2 * i + 1] = append(json);
        if (last.isAfter(newest)) {
          newest = last;
        }
        return;
      }
    }

    Optional<TaskRecord> find(String id, long hash) {
      int mask = slots - 1;
      for (int i = (int) hash & mask; ; i = (i + 1) & mask) {
        long slotHash = slotHash(i);
        if (slotHash == 0) {
          return Optional.empty();
        }
        if (slotHash == hash) {
          TaskRecord record = read(slotPlace(i));
          if (record.id().equals(id)) {
            return Optional.of(record);
          }
        }
      }
    }

    /** Slot {@code i}'s hash, 0 if the slot is free, from the table in memory or in its file. */
    private long slotHash(int i) {
      return open != null ? open[2 * i] : closed.getLong(i * SLOT);
    }

    /** Where in the log the record of slot {@code i} is. */
    private long slotPlace(int i) {
      return open != null ? open[2 * i + 1] : closed.getLong(i * SLOT + 8);
    }

    private long append(byte[] json) {
      if (pending.remaining() < 4 + json.length) {
        flush();
      }
      long at = pendingAt + pending.position();
      if (4 + json.length > BUFFER) {
        ByteBuffer large = ByteBuffer.allocate(4 + json.length).putInt(json.length).put(json);
        writeFully(log, large.flip(), at);
        pendingAt = at + large.capacity();
      } else {
        pending.putInt(json.length).put(json);
      }
      return at;
    }

    private void flush() {
      writeFully(log, pending.flip(), pendingAt);
      pendingAt += pending.limit();
      pending.clear();
    }

    private static void writeFully(FileChannel file, ByteBuffer buffer, long at) {
      try {
        while (buffer.hasRemaining()) {
          at += file.write(buffer, at);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private TaskRecord read(long at) {
      byte[] json;
      if (at >= pendingAt) {
        int offset = (int) (at - pendingAt);
        json = new byte[pending.getInt(offset)];
        pending.get(offset + 4, json);
      } else {
        ByteBuffer length = readFully(ByteBuffer.allocate(4), at);
        json = readFully(ByteBuffer.allocate(length.getInt(0)), at + 4).array();
      }
      return Json.MAPPER.readValue(json, TaskRecord.class);
    }

    private ByteBuffer readFully(ByteBuffer buffer, long at) {
      try {
        while (buffer.hasRemaining()) {
          int read = log.read(buffer, at + buffer.position());
          if (read < 0) {
            throw new IOException("the results archive ends before " + at);
          }
        }
        return buffer;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Doubles the table, moving each slot by its hash alone: no record is read. */
    private void grow() {
      long[] old = open;
      slots *= 2;
      open = new long[2 * slots];
      int mask = slots - 1;
      for (int j = 0; j < old.length; j += 2) {
        long hash = old[j];
        if (hash != 0) {
          int i = (int) hash & mask;
          while (open[2 * i] != 0) {
            i = (i + 1) & mask;
          }
          open[2 * i] = hash;
          open[2 * i + 1] = old[j + 1];
        }
      }
    }

    /**
     * Closes the segment to puts: its table goes to its file, read from there through the page
     * cache, and off the heap.
     */
    void seal() {
      try (FileChannel channel =
          FileChannel.open(
              tableFile(),
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE)) {
        ByteBuffer chunk = ByteBuffer.allocate(BUFFER);
        long at = 0;
        for (long value : open) {
          chunk.putLong(value);
          if (!chunk.hasRemaining()) {
            writeFully(channel, chunk.flip(), at);
            at += chunk.limit();
            chunk.clear();
          }
        }
        writeFully(channel, chunk.flip(), at);
        closed = channel.map(FileChannel.MapMode.READ_ONLY, 0, (long) slots * SLOT);
        open = null;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void delete() {
      try {
        log.close();
        Files.deleteIfExists(directory.resolve(number + ".log"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      try {
        Files.deleteIfExists(tableFile());
      } catch (IOException e) {
        DiskTaskArchive.log.warn("could not delete {} error={}", tableFile(), e.toString());
      }
    }

    /** Where a closed segment's table is. */
    private Path tableFile() {
      return directory.resolve(number + ".table");
    }
  }
}
