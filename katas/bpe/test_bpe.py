"""Tests for bpe. The oracle is a naive BPE written here with index loops and a pair list."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

WORKED_TEXT = "aaabdaaabac"
WORKED_MERGES = [(97, 97), (256, 97), (257, 98)]
WORKED_IDS = [258, 100, 258, 97, 99]
WORKED_ALL_MERGES = [(97, 97), (256, 97), (257, 98), (258, 100), (259, 258), (260, 97), (261, 99)]


def naive_replace(ids: list[int], pair: tuple[int, int], new_id: int) -> tuple[list[int], int]:
    """`ids` with `pair` replaced left to right without overlap, and how many were replaced."""
    out: list[int] = []
    replaced = 0
    skip = False
    for j in range(len(ids)):
        if skip:
            skip = False
            continue
        if j + 1 < len(ids) and ids[j] == pair[0] and ids[j + 1] == pair[1]:
            out.append(new_id)
            replaced += 1
            skip = True
        else:
            out.append(ids[j])
    return out, replaced


def naive_train(text: str, vocab_size: int) -> tuple[list[tuple[int, int]], list[int], int]:
    """The merges, the final sequence and the total number of replacements: the oracle."""
    ids = list(text.encode("utf-8"))
    merges: list[tuple[int, int]] = []
    total = 0
    while 256 + len(merges) < vocab_size and len(ids) >= 2:
        seen: list[list] = []  # [pair, count] in order of first occurrence
        for j in range(len(ids) - 1):
            pair = (ids[j], ids[j + 1])
            for entry in seen:
                if entry[0] == pair:
                    entry[1] += 1
                    break
            else:
                seen.append([pair, 1])
        best, best_count = seen[0]
        for pair, count in seen[1:]:
            if count > best_count:  # strictly greater: the earlier pair keeps a tie
                best, best_count = pair, count
        ids, replaced = naive_replace(ids, best, 256 + len(merges))
        total += replaced
        merges.append(best)
    return merges, ids, total


def naive_encode(text: str, merges: list[tuple[int, int]]) -> list[int]:
    ids = list(text.encode("utf-8"))
    for i, pair in enumerate(merges):
        ids, _ = naive_replace(ids, pair, 256 + i)
    return ids


def naive_bytes(token: int, merges: list[tuple[int, int]]) -> bytes:
    if token < 256:
        return bytes([token])
    left, right = merges[token - 256]
    return naive_bytes(left, merges) + naive_bytes(right, merges)


# the worked example of the README


def test_the_worked_example_learns_the_expected_merges(solution):
    merges = solution.train_bpe(WORKED_TEXT, 259)
    assert merges == WORKED_MERGES, (
        f"train_bpe({WORKED_TEXT!r}, 259) returned {merges}, expected {WORKED_MERGES}"
    )


def test_the_worked_example_encodes_to_the_expected_ids(solution):
    ids = solution.encode(WORKED_TEXT, WORKED_MERGES)
    assert ids == WORKED_IDS, f"encode({WORKED_TEXT!r}, {WORKED_MERGES}) returned {ids}"


def test_the_worked_example_decodes_back(solution):
    assert solution.decode(WORKED_IDS, WORKED_MERGES) == WORKED_TEXT


def test_the_worked_example_runs_until_one_id_is_left(solution):
    merges = solution.train_bpe(WORKED_TEXT, 1000)
    assert merges == WORKED_ALL_MERGES, (
        f"train_bpe({WORKED_TEXT!r}, 1000) returned {merges}, expected {WORKED_ALL_MERGES}"
    )
    assert solution.encode(WORKED_TEXT, merges) == [262]


# training


def test_a_tie_goes_to_the_pair_seen_first_not_the_smallest_or_largest(solution):
    # (99, 100), (100, 97), (97, 98) all occur once: first seen, largest, smallest
    merges = solution.train_bpe("cdab", 257)
    assert merges == [(99, 100)], f"train_bpe('cdab', 257) returned {merges}, expected [(99, 100)]"


def test_a_tie_between_a_merged_id_and_bytes_goes_to_the_pair_seen_first(solution):
    # after (97, 97) -> 256: [256, 97, 98, 100, 256, 97, 98, 97, 99]; (256, 97) and (97, 98)
    # both occur twice, (256, 97) first although (97, 98) is the smaller pair
    merges = solution.train_bpe(WORKED_TEXT, 258)
    assert merges == [(97, 97), (256, 97)], f"train_bpe({WORKED_TEXT!r}, 258) returned {merges}"


def test_a_more_frequent_pair_beats_one_seen_earlier(solution):
    merges = solution.train_bpe("xyabab", 257)
    assert merges == [(97, 98)], f"train_bpe('xyabab', 257) returned {merges}, expected [(97, 98)]"


def test_overlapping_occurrences_all_count(solution):
    # (97, 97) occurs at 0, 1, 2 (3 times) and (98, 99) twice: "aaaa" wins
    merges = solution.train_bpe("bcbcaaaa", 257)
    assert merges == [(97, 97)], f"train_bpe('bcbcaaaa', 257) returned {merges}, expected [(97,97)]"


@pytest.mark.parametrize("vocab_size", [256, 255, 0, -3])
def test_a_vocab_size_of_at_most_256_gives_no_merges(solution, vocab_size):
    merges = solution.train_bpe(WORKED_TEXT, vocab_size)
    assert merges == [], f"train_bpe({WORKED_TEXT!r}, {vocab_size}) returned {merges}, expected []"


def test_exactly_vocab_size_minus_256_merges_are_learnt(solution):
    text = "the quick brown fox jumps over the lazy dog " * 3
    for vocab_size in (257, 260, 270):
        merges = solution.train_bpe(text, vocab_size)
        assert len(merges) == vocab_size - 256, (
            f"train_bpe(text, {vocab_size}) learnt {len(merges)} merges, not {vocab_size - 256}"
        )


def test_a_pair_seen_once_is_still_merged(solution):
    merges = solution.train_bpe("ab", 1000)
    assert merges == [(97, 98)], f"train_bpe('ab', 1000) returned {merges}, expected [(97, 98)]"


def test_training_stops_early_when_one_id_is_left(solution):
    merges = solution.train_bpe("abcd", 1000)
    assert len(merges) == 3, f"train_bpe('abcd', 1000) returned {merges}, expected 3 merges"
    assert solution.encode("abcd", merges) == [258]


@pytest.mark.parametrize("text", ["", "a", "\n"], ids=["empty", "one_letter", "newline"])
def test_a_text_of_fewer_than_two_bytes_gives_no_merges(solution, text):
    assert solution.train_bpe(text, 300) == []


def test_training_works_on_utf8_bytes_not_code_points(solution):
    # "€" is the three bytes e2 82 ac
    merges = solution.train_bpe("€", 1000)
    assert merges == [(0xE2, 0x82), (256, 0xAC)], f"train_bpe('€', 1000) returned {merges}"


def test_training_matches_the_naive_oracle_on_a_sentence(solution):
    text = "low lower lowest newer newest wider widest 新新新 ünïcödé"
    expected, _, _ = naive_train(text, 300)
    assert solution.train_bpe(text, 300) == expected


# encoding


def test_encoding_merges_left_to_right_without_overlap(solution):
    assert solution.encode("aaa", [(97, 97)]) == [256, 97]
    assert solution.encode("aaaa", [(97, 97)]) == [256, 256]
    assert solution.encode("aaaaa", [(97, 97)]) == [256, 256, 97]


def test_encoding_applies_each_merge_everywhere(solution):
    ids = solution.encode("ab-ab-ab", [(97, 98)])
    assert ids == [256, 45, 256, 45, 256], f"encode('ab-ab-ab', [(97, 98)]) returned {ids}"


def test_encoding_applies_merges_in_training_order_not_by_frequency(solution):
    # merge 0 (a, b) comes first even though (b, c) is the more frequent pair of "abcbc"
    merges = [(97, 98), (98, 99)]
    ids = solution.encode("abcbc", merges)
    assert ids == [256, 99, 257], f"encode('abcbc', {merges}) returned {ids}, not [256, 99, 257]"


def test_encoding_builds_later_merges_on_earlier_ones(solution):
    merges = [(97, 98), (256, 99), (257, 257)]
    ids = solution.encode("abcabcab", merges)
    assert ids == [258, 256], f"encode('abcabcab', {merges}) returned {ids}, expected [258, 256]"


def test_encoding_with_no_merges_gives_the_utf8_bytes(solution):
    text = "aé€🐍"
    assert solution.encode(text, []) == list(text.encode("utf-8"))


def test_encoding_an_empty_text_gives_no_ids(solution):
    assert solution.encode("", WORKED_MERGES) == []


def test_a_merge_absent_from_the_text_changes_nothing(solution):
    assert solution.encode("xyz", WORKED_MERGES) == [120, 121, 122]


# decoding


def test_decoding_nothing_gives_an_empty_string(solution):
    assert solution.decode([], WORKED_MERGES) == ""


def test_decoding_joins_bytes_split_across_ids(solution):
    # "ü" is c3 bc: two byte ids that only make sense together
    assert solution.decode([0xC3, 0xBC], []) == "ü"
    merges = [(0xE2, 0x82)]
    assert solution.decode([256, 0xAC], merges) == "€"


def test_decoding_invalid_utf8_gives_replacement_characters(solution):
    text = solution.decode([104, 0xFF, 105], [])
    assert text == "h\ufffdi", f"decode([104, 0xFF, 105], []) returned {text!r}, not 'h\\ufffdi'"


def test_decoding_reads_utf8_not_latin1(solution):
    merges = [(0xC3, 0xA9)]
    text = solution.decode([99, 97, 102, 256], merges)
    assert text == "café", f"decode([99, 97, 102, 256], {merges}) returned {text!r}, not 'café'"


@pytest.mark.parametrize("bad", [-1, 259, 1000])
def test_decoding_an_unknown_id_raises_value_error(solution, bad):
    with pytest.raises(ValueError):
        solution.decode([97, bad], WORKED_MERGES)


# properties

small_text = st.text(alphabet=st.sampled_from(list("aabbc é€🐍\n")), max_size=40)


@settings(max_examples=40)
@given(train=st.text(max_size=60), text=st.text(max_size=60), extra=st.integers(0, 40))
def test_decode_inverts_encode_on_any_unicode_text(solution, train, text, extra):
    merges = solution.train_bpe(train, 256 + extra)
    ids = solution.encode(text, merges)
    back = solution.decode(ids, merges)
    assert back == text, f"decode(encode({text!r})) gave {back!r} with merges {merges}"


@settings(max_examples=40)
@given(text=small_text, extra=st.integers(0, 30))
def test_training_matches_the_naive_oracle(solution, text, extra):
    expected, _, _ = naive_train(text, 256 + extra)
    merges = solution.train_bpe(text, 256 + extra)
    assert merges == expected, f"train_bpe({text!r}, {256 + extra}) returned {merges}"


@settings(max_examples=40)
@given(text=small_text | st.text(max_size=40), extra=st.integers(0, 30))
def test_each_merge_refers_only_to_ids_that_exist_already(solution, text, extra):
    merges = solution.train_bpe(text, 256 + extra)
    assert len(merges) <= extra
    for i, (left, right) in enumerate(merges):
        assert 0 <= left < 256 + i and 0 <= right < 256 + i, f"merge {i} is {(left, right)}"


@settings(max_examples=40)
@given(text=small_text, extra=st.integers(0, 30))
def test_encoding_the_training_text_replays_the_training(solution, text, extra):
    merges = solution.train_bpe(text, 256 + extra)
    _, final, replaced = naive_train(text, 256 + extra)
    ids = solution.encode(text, merges)
    assert ids == final
    assert len(ids) == len(text.encode("utf-8")) - replaced


@settings(max_examples=40)
@given(train=small_text, text=small_text, extra=st.integers(0, 30))
def test_encoding_matches_the_naive_oracle_on_other_text(solution, train, text, extra):
    merges, _, _ = naive_train(train, 256 + extra)
    ids = solution.encode(text, merges)
    assert ids == naive_encode(text, merges), f"encode({text!r}, {merges}) returned {ids}"


@settings(max_examples=40)
@given(train=small_text, extra=st.integers(0, 30), data=st.data())
def test_decoding_expands_each_id_into_its_bytes(solution, train, extra, data):
    merges, _, _ = naive_train(train, 256 + extra)
    ids = data.draw(st.lists(st.integers(0, 255 + len(merges)), max_size=12))
    expected = b"".join(naive_bytes(i, merges) for i in ids).decode("utf-8", errors="replace")
    assert solution.decode(ids, merges) == expected, f"decode({ids}, {merges})"
