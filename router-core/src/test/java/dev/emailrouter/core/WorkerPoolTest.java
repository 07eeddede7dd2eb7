package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class WorkerPoolTest {

  @Test
  void forEach_withSeveralThreads_runsEveryItemOnThePool_andReturnsWhenAllHaveEnded() {
    Set<String> done = ConcurrentHashMap.newKeySet();
    Set<String> threads = ConcurrentHashMap.newKeySet();
    CountDownLatch bothStarted = new CountDownLatch(2);
    try (WorkerPool pool = new WorkerPool("test", 2)) {
      pool.forEach(List.of("a", "b", "c"), item -> {
        threads.add(Thread.currentThread().getName());
        bothStarted.countDown();
        try {
          // Two at once: each of the first two waits for the other to have started.
          assertThat(bothStarted.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        done.add(item);
      });

      assertThat(done).containsExactlyInAnyOrder("a", "b", "c");
      assertThat(threads).allSatisfy(name -> assertThat(name).startsWith("email-router-test-")).hasSize(2);
    }
  }

  @Test
  void forEach_whenTasksFail_throwsTheFirstInItemOrder_afterEveryTaskHasEnded() {
    Set<String> done = ConcurrentHashMap.newKeySet();
    CountDownLatch secondFailed = new CountDownLatch(1);
    try (WorkerPool pool = new WorkerPool("test", 3)) {
      assertThatThrownBy(() -> pool.forEach(List.of("first", "second", "third"), item -> {
        switch (item) {
          case "first" -> {
            try {
              // Fails after the second did: still the one thrown, being first in item order.
              secondFailed.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("first failed");
          }
          case "second" -> {
            secondFailed.countDown();
            throw new LinkageError("second failed");
          }
          default -> done.add(item);
        }
      })).isInstanceOf(IllegalStateException.class).hasMessage("first failed")
          .satisfies(e -> assertThat(e.getSuppressed()).singleElement().isInstanceOf(LinkageError.class));

      assertThat(done).containsExactly("third");
    }
  }

  @Test
  void forEach_withOneThread_runsOnTheCaller_andThrowsAtOnce() {
    Thread caller = Thread.currentThread();
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    try (WorkerPool pool = new WorkerPool("test", 1)) {
      pool.forEach(List.of(1, 2), i -> threads.add(Thread.currentThread()));

      assertThat(threads).containsExactly(caller);
      assertThatThrownBy(() -> pool.forEach(List.of(1, 2), i -> {
        throw new IllegalStateException("at " + i);
      })).hasMessage("at 1");
    }
  }
}
