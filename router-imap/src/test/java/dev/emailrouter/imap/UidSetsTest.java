package dev.emailrouter.imap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

final class UidSetsTest {

  @Test
  void of_writesConsecutiveUidsAsRanges() {
    assertThat(UidSets.of(List.of(1L, 2L, 3L, 5L, 7L, 8L, 4_294_967_295L), 100))
        .containsExactly("1:3,5,7:8,4294967295");
  }

  @Test
  void of_splitsIntoSetsOfBoundedSize() {
    List<Long> uids = LongStream.rangeClosed(1, 2500).boxed().toList();

    assertThat(UidSets.of(uids, 1000)).containsExactly("1:1000", "1001:2000", "2001:2500");
  }

  @Test
  void of_nothing_isNoSet() {
    assertThat(UidSets.of(List.of(), 10)).isEmpty();
  }

  @Test
  void ofRanges_namesAnyNumberOfConsecutiveUidsInOneSet() {
    List<Long> uids = LongStream.rangeClosed(1, 25_000).boxed().toList();

    assertThat(UidSets.ofRanges(uids, 1000)).containsExactly("1:25000");
  }

  @Test
  void ofRanges_boundsTheRangesAndSingleUidsOfOneSet() {
    List<Long> uids = List.of(1L, 2L, 3L, 5L, 7L, 8L, 10L, 4_294_967_295L);

    assertThat(UidSets.ofRanges(uids, 2)).containsExactly("1:3,5", "7:8,10", "4294967295");
    assertThat(UidSets.ofRanges(uids, 100)).containsExactly("1:3,5,7:8,10,4294967295");
    assertThat(UidSets.ofRanges(List.of(), 10)).isEmpty();
  }
}
