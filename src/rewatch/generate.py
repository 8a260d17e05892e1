"""Deterministic, vectorised generator of nightly exports (contract v1) and their ground truth.

The simulation works per chunk of households, so memory is bounded by the chunk, not the run:

1. households (time zones on several continents), 1-5 profiles each (some kids), 1-4 devices;
2. viewing *slots* per profile and local day: kids before and after school on weekdays and
   during the day at weekends, adults in the evening and at weekends;
3. watch cycles per profile (a title watched to a planned point: completed, abandoned or
   sampled, sometimes followed by a scene replay), split into 1-3 parts over consecutive
   slots, often on another device; kids keep going back to a favourite film;
4. one session per part, placed in local time and then queued so that a profile's sessions
   never overlap (a Lindley recursion, vectorised); a few pauses, and a few gaps before the
   next part on the same device, last 29, 30, 30 min 1 s or 31 minutes: either side of the
   session gap;
5. events per session: play, heartbeats every 60 s of playback, an optional pause/resume and
   seek, and usually a stop; received within seconds, or 1-3 nights late (offline viewing),
   a few re-delivered in a later night.

The ground truth (sessions, cycles, household x title completions) is computed here from the
simulated events with numpy, independently of the warehouse's SQL, by the definitions in
docs/metrics.md, and written outside the exports folder.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from rewatch.contract import EVENT_COLUMNS, EVENT_TYPES, TITLE_COLUMNS, write_manifest

TIMEZONES = (
    ("US", "America/New_York"),
    ("US", "America/Los_Angeles"),
    ("BR", "America/Sao_Paulo"),
    ("GB", "Europe/London"),
    ("DE", "Europe/Berlin"),
    ("IN", "Asia/Kolkata"),
    ("JP", "Asia/Tokyo"),
    ("AU", "Australia/Sydney"),
)
TIMEZONE_WEIGHTS = np.array([0.24, 0.14, 0.1, 0.12, 0.12, 0.1, 0.08, 0.1])
DEVICE_TYPES = np.array(["tv", "mobile", "tablet", "web", "console"])
PROFILE_NAMES = np.array(["Alex", "Sam", "Jordan", "Robin", "Casey", "Kim", "Lee", "Max", "Noa", "Ari"])
KIDS_NAMES = np.array(["Kids", "Mia", "Leo", "Zoe", "Eli", "Ivy", "Finn", "Luna"])
EV = {name: i for i, name in enumerate(EVENT_TYPES)}

# Heartbeats every 60 s while playing (contract); queued sessions of one profile keep at least
# this gap, so that the simulated sessions are exactly the sessions the warehouse must find.
HEARTBEAT_SECONDS = 60
MIN_GAP_SECONDS = 40 * 60
# ...except on purpose: real data's hardest case is a pause just under or over the session gap
# (docs/metrics.md 3: more than 30 minutes splits, exactly 30 continues). Some pauses, and some
# gaps before a follow-on session on the same device, are drawn from these; the truth splits or
# merges by the plan (which side of the rule each falls on), not by reading timestamps back.
SESSION_GAP_SECONDS = 30 * 60
NEAR_GAP_SECONDS = np.array([29 * 60, 30 * 60, 30 * 60 + 1, 31 * 60])
NEAR_GAP_PAUSE_SHARE = 0.15  # of pauses
NEAR_GAP_FOLLOW_ON_SHARE = 0.25  # of sessions that continue the previous session's cycle
# About 20,000 households x 7 nights per chunk (~12 M events, a few GB): memory follows the
# chunk, never the whole run, so 100 M events generate in bounded memory.
CHUNK_HOUSEHOLD_NIGHTS = 140_000

# Viewing slots: (name, kids?, weekend?, earliest local start, latest local start, probability)
SLOTS = (
    ("before_school", True, False, 6.75, 8.0, 0.55),
    ("after_school", True, False, 15.25, 18.0, 0.75),
    ("kids_evening", True, False, 18.5, 19.5, 0.15),
    ("weekend_morning", True, True, 7.5, 11.0, 0.8),
    ("weekend_afternoon", True, True, 13.0, 17.0, 0.7),
    ("adult_lunch", False, False, 12.0, 13.0, 0.05),
    ("adult_evening", False, False, 19.0, 22.0, 0.5),
    ("adult_late", False, False, 22.5, 23.75, 0.12),
    ("weekend_day", False, True, 10.0, 17.0, 0.35),
    ("weekend_evening", False, True, 19.0, 23.5, 0.5),
)


@dataclass(frozen=True)
class GenerateResult:
    nights: int
    households: int
    events: int
    sessions: int
    out_dir: Path
    truth_dir: Path


def build_catalog(rng: np.random.Generator, start: dt.date, nights: int) -> pd.DataFrame:
    """Movies and series episodes, a quarter for kids, a few released during the window."""
    rows = []
    n_movies, n_kids_movies = 90, 30
    for i in range(n_movies + n_kids_movies):
        kids = i >= n_movies
        runtime = int(rng.integers(78, 105) if kids else rng.integers(85, 160)) * 60 + int(rng.integers(0, 60))
        credits = None if rng.random() < 0.12 else runtime - int(rng.integers(120, 600))
        rows.append(("movie", kids, runtime, credits, None, None, None))
    for s in range(24):
        kids = s >= 17
        seasons = int(rng.integers(1, 4))
        base = int(rng.integers(11, 24) if kids else rng.integers(24, 58)) * 60
        for season in range(1, seasons + 1):
            for episode in range(1, int(rng.integers(6, 11)) + 1):
                runtime = base + int(rng.integers(-90, 91))
                credits = None if rng.random() < 0.2 else runtime - int(rng.integers(30, 120))
                rows.append(("episode", kids, runtime, credits, s, season, episode))
    catalog = pd.DataFrame(
        rows,
        columns=[
            "title_type",
            "is_kids_title",
            "runtime_seconds",
            "credits_start_seconds",
            "series",
            "season_number",
            "episode_number",
        ],
    )
    n = len(catalog)
    catalog["title_id"] = [f"tt{i + 1:05d}" for i in range(n)]
    movie_words = np.array(["Star", "River", "Dragon", "Moon", "Secret", "Winter", "Lost", "Brave", "Little", "Last"])
    noun_words = np.array(
        ["Kingdom", "Voyage", "Garden", "Heist", "Summer", "Island", "Code", "Friends", "Storm", "Tale"]
    )
    # Series s and s + 10 share their first word, so their second word moves on by one: every
    # title name is unique (an analyst's top-10 never lists "the same" title twice).
    series_names = [f"The {movie_words[s % 10]} {noun_words[(s * 3 + s // 10) % 10].rstrip('s')}s" for s in range(24)]
    names, series_titles = [], []
    for row in catalog.itertuples():
        if row.title_type == "movie":
            names.append(f"{movie_words[row.Index % 10]} {noun_words[(row.Index // 10) % 10]} {row.Index // 100 + 1}")
            series_titles.append(None)
        else:
            series = series_names[int(row.series)]
            names.append(f"{series}: Season {int(row.season_number)}: Episode {int(row.episode_number)}")
            series_titles.append(series)
    catalog["title_name"] = names
    catalog["series_title"] = series_titles
    catalog["maturity_rating"] = np.where(
        catalog["is_kids_title"], "TV-Y7", rng.choice(np.array(["PG-13", "TV-14", "R", "TV-MA"]), n)
    )
    # Most titles are catalogue; a few premiere during the window (so launch windows mean something).
    age_days = rng.integers(30, 3000, n)
    premieres = rng.random(n) < 0.06
    age_days = np.where(premieres, -rng.integers(0, max(nights, 1), n), age_days)
    catalog["release_date"] = [start - dt.timedelta(days=int(a)) for a in age_days]
    # The unstoppable family film: the first kids movie, released just before the window.
    catalog.loc[n_movies, "release_date"] = start - dt.timedelta(days=3)
    catalog.loc[n_movies, "title_name"] = "The Unstoppable Summer"
    catalog["popularity"] = 1.0 / np.power(rng.permutation(n) + 1.0, 0.9)
    catalog.loc[n_movies, "popularity"] = catalog["popularity"].max() * 3
    catalog["content_end_seconds"] = (
        catalog["credits_start_seconds"].fillna(catalog["runtime_seconds"]).astype(np.int64)
    )
    for col in ("credits_start_seconds", "season_number", "episode_number"):
        catalog[col] = catalog[col].astype("Int64")
    return catalog


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def _run_starts(keys: np.ndarray) -> np.ndarray:
    """True where a run of equal consecutive keys starts (no element for no keys)."""
    return np.r_[True, keys[1:] != keys[:-1]][: len(keys)]


def _run_ends(keys: np.ndarray) -> np.ndarray:
    """True where a run of equal consecutive keys ends (no element for no keys)."""
    return np.r_[keys[1:] != keys[:-1], True][: len(keys)]


def _rank_in_group(group: np.ndarray) -> np.ndarray:
    """0-based position of each element within its (contiguous, sorted) group."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(_run_starts(group))
    lengths = np.diff(np.r_[starts, n])
    return np.arange(n) - np.repeat(starts, lengths)


def _choose_weighted(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    cdf = np.cumsum(weights)
    return np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right").clip(0, len(weights) - 1)


def _local_to_utc(local_naive: np.ndarray, tz_index: np.ndarray) -> np.ndarray:
    """Local wall times (datetime64[s]) in each row's household zone -> UTC epoch seconds."""
    out = np.empty(len(local_naive), dtype=np.int64)
    for i, (_, zone) in enumerate(TIMEZONES):
        mask = tz_index == i
        if not mask.any():
            continue
        stamps = pd.DatetimeIndex(local_naive[mask]).tz_localize(
            zone, ambiguous=np.zeros(mask.sum(), dtype=bool), nonexistent="shift_forward"
        )
        out[mask] = stamps.tz_convert("UTC").as_unit("s").asi8
    return out


def _simulate_chunk(
    rng: np.random.Generator,
    catalog: pd.DataFrame,
    first_household: int,
    households: int,
    start: dt.date,
    nights: int,
) -> dict[str, object]:
    """Simulate one chunk of households. Returns dimension frames, events and ground truth.

    The steps run in the order of the module docstring and draw from `rng` in that order:
    the draws are the simulation, so reordering two steps changes every byte generated.
    """
    people = _people(rng, first_household, households)
    slots = _viewing_slots(rng, people, start, nights)
    cycles = _watch_cycles(rng, catalog, people, slots)
    sessions = _sessions(rng, people, slots, cycles)
    # Its own stream (spawned: the main one is not advanced), so the rest is drawn as before.
    sessions = _near_the_gap(rng.spawn(1)[0], sessions)
    ses_start = _queue_sessions(sessions)
    events = _session_events(sessions, ses_start)
    ses_start, events = _follow_on(sessions, ses_start, events)
    delivery = _delivery(rng, sessions, ses_start, events, start, nights)
    truth = _ground_truth(
        events.session[delivery.keep],
        events.kind[delivery.keep],
        events.ts[delivery.keep],
        events.position[delivery.keep],
        _session_starts(sessions, events.session[delivery.keep], events.kind[delivery.keep]),
        sessions.profile,
        sessions.title,
        sessions.device,
        sessions.household,
        catalog,
        people.hh_index,
        people.prof_global,
        people.dev_global,
    )
    table, night = _event_table(rng, catalog, people, sessions, events, delivery, first_household)
    households_df, profiles_df = _dimension_frames(people)
    return {"events": table, "night": night, "households": households_df, "profiles": profiles_df, **truth}


@dataclass(frozen=True)
class _People:
    """A chunk's households (by position in the chunk), their profiles and their devices."""

    hh_index: np.ndarray  # household -> its number across chunks
    tz_index: np.ndarray  # household -> its zone in TIMEZONES
    n_devices: np.ndarray  # household -> how many devices it has
    dev_start: np.ndarray  # household -> its first device
    prof_hh: np.ndarray  # profile -> its household
    prof_rank: np.ndarray  # profile -> 0 for the household's first, 1.. for the others
    prof_kids: np.ndarray  # profile -> a kids profile?
    prof_global: np.ndarray  # profile -> its number across chunks
    dev_type: np.ndarray  # device -> tv, mobile, ...
    dev_global: np.ndarray  # device -> its number across chunks


def _people(rng: np.random.Generator, first_household: int, households: int) -> _People:
    """Step 1: households (time zones on several continents), 1-5 profiles (some kids), 1-4 devices."""
    hh_index = np.arange(first_household, first_household + households)
    tz_index = _choose_weighted(rng, TIMEZONE_WEIGHTS, households)
    n_profiles = rng.choice(np.arange(1, 6), households, p=[0.2, 0.3, 0.25, 0.15, 0.1])
    n_devices = rng.integers(1, 5, households)
    prof_hh = np.repeat(np.arange(households), n_profiles)
    prof_rank = _rank_in_group(prof_hh)
    prof_kids = (prof_rank >= 1) & (rng.random(len(prof_hh)) < 0.45)
    prof_global = np.arange(len(prof_hh)) + first_household * 5
    dev_hh = np.repeat(np.arange(households), n_devices)
    dev_type = rng.choice(DEVICE_TYPES, len(dev_hh), p=[0.45, 0.25, 0.15, 0.1, 0.05])
    dev_global = np.arange(len(dev_hh)) + first_household * 4
    return _People(
        hh_index=hh_index,
        tz_index=tz_index,
        n_devices=n_devices,
        dev_start=_group_starts(n_devices),
        prof_hh=prof_hh,
        prof_rank=prof_rank,
        prof_kids=prof_kids,
        prof_global=prof_global,
        dev_type=dev_type,
        dev_global=dev_global,
    )


@dataclass(frozen=True)
class _Slots:
    """Every profile's viewing slots, by profile and then time."""

    utc: np.ndarray  # slot -> its start, UTC epoch seconds
    per_profile: np.ndarray  # profile -> how many slots it has

    def first_of(self, profile: np.ndarray) -> np.ndarray:
        """The index in `utc` of each profile's first slot."""
        return _group_starts(self.per_profile)[profile]


def _viewing_slots(rng: np.random.Generator, people: _People, start: dt.date, nights: int) -> _Slots:
    """Step 2: viewing slots per profile and local day (SLOTS), placed in the household's zone."""
    days = np.arange(-1, nights + 1)  # one day either side: sessions cross midnight and zones
    slot_kids = np.array([s[1] for s in SLOTS])
    slot_weekend = np.array([s[2] for s in SLOTS])
    slot_lo = np.array([s[3] for s in SLOTS])
    slot_hi = np.array([s[4] for s in SLOTS])
    slot_p = np.array([s[5] for s in SLOTS])
    n_prof, n_days, n_slots = len(people.prof_hh), len(days), len(SLOTS)
    p_idx = np.repeat(np.arange(n_prof), n_days * n_slots)
    d_idx = np.tile(np.repeat(days, n_slots), n_prof)
    s_idx = np.tile(np.arange(n_slots), n_prof * n_days)
    local_day = np.datetime64(start) + d_idx.astype("timedelta64[D]")
    weekday = (local_day.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    is_weekend = weekday >= 5
    # Each profile has its own appetite; kids have a favourite film and watch it a lot.
    appetite = rng.gamma(2.0, 0.5, n_prof)
    keep = (slot_kids[s_idx] == people.prof_kids[p_idx]) & (slot_weekend[s_idx] == is_weekend)
    keep &= rng.random(len(p_idx)) < np.minimum(slot_p[s_idx] * appetite[p_idx], 0.95)
    p_idx, d_idx, s_idx, local_day = p_idx[keep], d_idx[keep], s_idx[keep], local_day[keep]
    hours = slot_lo[s_idx] + rng.random(len(s_idx)) * (slot_hi[s_idx] - slot_lo[s_idx])
    local_start = local_day.astype("datetime64[s]") + (hours * 3600).astype("timedelta64[s]")
    slot_utc = _local_to_utc(local_start, people.tz_index[people.prof_hh[p_idx]])
    order = np.lexsort((slot_utc, p_idx))
    p_idx, slot_utc = p_idx[order], slot_utc[order]
    return _Slots(utc=slot_utc, per_profile=np.bincount(p_idx, minlength=n_prof))


@dataclass(frozen=True)
class _Cycles:
    """Watch cycles: a title watched to a planned point, in one or more parts."""

    profile: np.ndarray  # cycle -> its profile
    title: np.ndarray  # cycle -> its title (catalog row)
    content_end: np.ndarray  # cycle -> where the title's content ends (credits, or runtime)
    runtime: np.ndarray  # cycle -> the title's runtime
    target: np.ndarray  # cycle -> the position it is watched to
    n_parts: np.ndarray  # cycle -> its sessions (the replay included)
    replay: np.ndarray  # cycle -> followed by a scene replay?


def _watch_cycles(rng: np.random.Generator, catalog: pd.DataFrame, people: _People, slots: _Slots) -> _Cycles:
    """Step 3: enough watch cycles per profile to fill its slots; kids go back to a favourite film."""
    n_prof = len(people.prof_hh)
    cyc_prof = np.repeat(np.arange(n_prof), slots.per_profile)
    n_cyc = len(cyc_prof)
    kids_c = people.prof_kids[cyc_prof]
    titles_kids = catalog["is_kids_title"].to_numpy()
    popularity = catalog["popularity"].to_numpy()
    kid_titles = np.flatnonzero(titles_kids)
    adult_titles = np.flatnonzero(~titles_kids)
    favourite = kid_titles[_choose_weighted(rng, popularity[kid_titles], n_prof)]
    title = adult_titles[_choose_weighted(rng, popularity[adult_titles], n_cyc)]
    kid_pick = kid_titles[_choose_weighted(rng, popularity[kid_titles], n_cyc)]
    title = np.where(kids_c, np.where(rng.random(n_cyc) < 0.5, favourite[cyc_prof], kid_pick), title)
    # Adults also watch kids titles with the family now and then.
    title = np.where(~kids_c & (rng.random(n_cyc) < 0.08), kid_pick, title)
    content_end = catalog["content_end_seconds"].to_numpy()[title]
    runtime = catalog["runtime_seconds"].to_numpy()[title]
    outcome = rng.random(n_cyc)
    complete_p = np.where(kids_c & (title == favourite[cyc_prof]), 0.9, 0.6)
    sample = outcome >= 0.88
    complete = outcome < complete_p
    target = np.where(
        complete,
        # Through to the credits, sometimes into them, sometimes to the very end.
        np.minimum(content_end + rng.integers(0, 240, n_cyc), runtime),
        np.where(sample, rng.integers(20, 200, n_cyc), (rng.uniform(0.08, 0.85, n_cyc) * content_end).astype(np.int64)),
    ).astype(np.int64)
    n_parts = np.where(sample, 1, rng.choice(np.array([1, 2, 3]), n_cyc, p=[0.6, 0.28, 0.12]))
    replay = complete & (rng.random(n_cyc) < 0.06)
    return _Cycles(
        profile=cyc_prof,
        title=title,
        content_end=content_end,
        runtime=runtime,
        target=target,
        n_parts=n_parts + replay,
        replay=replay,
    )


@dataclass(frozen=True)
class _Sessions:
    """One session per part of a cycle, in a slot of its profile, with what happens in it."""

    profile: np.ndarray  # session -> its profile
    cycle: np.ndarray  # session -> its watch cycle (the plan's; parts of one cycle are consecutive)
    household: np.ndarray  # session -> its household
    title: np.ndarray  # session -> its title (catalog row)
    device: np.ndarray  # session -> its device
    runtime: np.ndarray  # session -> the title's runtime
    slot_utc: np.ndarray  # session -> the start of its slot
    start_pos: np.ndarray  # session -> the position playback starts at
    watch: np.ndarray  # session -> seconds of playback
    has_pause: np.ndarray
    pause_tau: np.ndarray  # seconds of playback before the pause (-1: none)
    pause_len: np.ndarray
    has_seek: np.ndarray
    seek_tau: np.ndarray  # seconds of playback before the seek (-1: none)
    seek_delta: np.ndarray  # how far the seek moves the position
    has_stop: np.ndarray
    # Either side of the session gap (step 4b); all False until _near_the_gap draws them.
    pause_splits: np.ndarray  # the pause lasts more than the gap: the resume starts a session
    follow_gap: np.ndarray  # seconds from the previous session's last event to this one's first (0: queued)
    merges_previous: np.ndarray  # a follow-on within the gap, after no stop: one session with the previous

    @property
    def wall(self) -> np.ndarray:
        """Wall-clock seconds: playback and the pause."""
        return self.watch + self.pause_len


def _sessions(rng: np.random.Generator, people: _People, slots: _Slots, cycles: _Cycles) -> _Sessions:
    """Step 4a: a cycle's parts become sessions in consecutive slots of its profile, often on
    another device; each gets its stretch of the title, and maybe a pause, a seek and a stop."""
    part_cyc = np.repeat(np.arange(len(cycles.profile)), cycles.n_parts)
    part_rank = _rank_in_group(part_cyc)
    part_prof = cycles.profile[part_cyc]
    part_seq = _rank_in_group(part_prof)  # nth part of this profile
    keep = part_seq < slots.per_profile[part_prof]
    part_cyc, part_rank, part_prof, part_seq = part_cyc[keep], part_rank[keep], part_prof[keep], part_seq[keep]
    n_ses = len(part_cyc)
    ses_slot_utc = slots.utc[slots.first_of(part_prof) + part_seq]
    n_parts, replay = cycles.n_parts[part_cyc], cycles.replay[part_cyc]
    is_replay = replay & (part_rank == n_parts - 1)
    watch_parts = n_parts - replay
    # Split points: part k of m covers [target*k/m, target*(k+1)/m], jittered.
    frac_lo = part_rank / watch_parts
    frac_hi = (part_rank + 1) / watch_parts
    jitter = rng.uniform(-0.08, 0.08, n_ses) / watch_parts
    lo = np.where(part_rank == 0, 0.0, frac_lo + jitter)
    jitter_next = np.r_[jitter[1:], 0.0]
    last_part = part_rank == watch_parts - 1
    hi = np.where(last_part, 1.0, frac_hi + jitter_next)
    tgt = cycles.target[part_cyc]
    start_pos = (lo * tgt).astype(np.int64)
    end_pos = (hi * tgt).astype(np.int64)
    # A scene replay after the watch-through: back to a favourite scene, a few minutes.
    ce = cycles.content_end[part_cyc]
    replay_start = (rng.uniform(0.2, 0.8, n_ses) * ce).astype(np.int64)
    start_pos = np.where(is_replay, replay_start, start_pos)
    end_pos = np.where(is_replay, replay_start + rng.integers(60, 400, n_ses), end_pos)
    watch = np.maximum(end_pos - start_pos, 5)

    ses_hh = people.prof_hh[part_prof]
    # Continuations often move to another device of the household.
    dev_choice = rng.integers(0, 1 << 30, n_ses) % people.n_devices[ses_hh]
    ses_dev = people.dev_start[ses_hh] + dev_choice

    has_pause = (watch > 300) & (rng.random(n_ses) < 0.3)
    pause_tau = np.where(has_pause, (rng.uniform(0.2, 0.8, n_ses) * watch).astype(np.int64), -1)
    pause_len = np.where(has_pause, rng.integers(30, 900, n_ses), 0)
    has_seek = (watch > 400) & (rng.random(n_ses) < 0.15)
    seek_tau = np.where(has_seek, (rng.uniform(0.1, 0.9, n_ses) * watch).astype(np.int64), -1)
    # Forward skips of an intro or a boring bit, or back to re-watch a moment.
    seek_delta = np.where(
        has_seek, np.where(rng.random(n_ses) < 0.6, rng.integers(30, 240, n_ses), -rng.integers(20, 120, n_ses)), 0
    )
    has_stop = rng.random(n_ses) < 0.88
    no = np.zeros(n_ses, dtype=bool)
    return _Sessions(
        profile=part_prof,
        cycle=part_cyc,
        household=ses_hh,
        title=cycles.title[part_cyc],
        device=ses_dev,
        runtime=cycles.runtime[part_cyc],
        slot_utc=ses_slot_utc,
        start_pos=start_pos,
        watch=watch,
        has_pause=has_pause,
        pause_tau=pause_tau,
        pause_len=pause_len,
        has_seek=has_seek,
        seek_tau=seek_tau,
        seek_delta=seek_delta,
        has_stop=has_stop,
        pause_splits=no,
        follow_gap=np.zeros(n_ses, dtype=np.int64),
        merges_previous=no,
    )


def _near_the_gap(rng: np.random.Generator, sessions: _Sessions) -> _Sessions:
    """Step 4b: pauses and follow-on gaps either side of the session gap.

    Some pauses last NEAR_GAP_SECONDS: over the gap, the resume starts a new session. Some
    sessions that continue the previous session's cycle do so on its device, NEAR_GAP_SECONDS
    after its last event (placed by _follow_on after the events exist), half of them after no
    stop: within the gap and after no stop, the two are one session. A follow-on never follows
    a follow-on, so each gap is measured from a session placed by the queue.
    """
    n_ses = len(sessions.profile)
    near_pause = sessions.has_pause & (rng.random(n_ses) < NEAR_GAP_PAUSE_SHARE)
    pause_len = np.where(near_pause, rng.choice(NEAR_GAP_SECONDS, n_ses), sessions.pause_len)
    continues = np.r_[False, sessions.cycle[1:] == sessions.cycle[:-1]][: len(sessions.cycle)]
    follow = continues & (rng.random(n_ses) < NEAR_GAP_FOLLOW_ON_SHARE)
    follow &= ~np.r_[False, follow[:-1]][: len(follow)]
    follow_gap = np.where(follow, rng.choice(NEAR_GAP_SECONDS, n_ses), 0)
    previous_device = np.r_[sessions.device[:1], sessions.device[:-1]]
    device = np.where(follow, previous_device, sessions.device)
    # Half the follow-ons come after a session that ended without a stop.
    no_stop_before = follow & (rng.random(n_ses) < 0.5)
    has_stop = sessions.has_stop & ~np.r_[no_stop_before[1:], False]
    previous_stopped = np.r_[False, has_stop[:-1]][: len(has_stop)]
    return replace(
        sessions,
        device=device,
        pause_len=pause_len,
        has_stop=has_stop,
        pause_splits=sessions.has_pause & (pause_len > SESSION_GAP_SECONDS),
        follow_gap=follow_gap,
        merges_previous=follow & ~previous_stopped & (follow_gap <= SESSION_GAP_SECONDS),
    )


def _queue_sessions(sessions: _Sessions) -> np.ndarray:
    """Step 4c: each session's start (UTC epoch seconds), queued so that a profile's sessions
    never overlap and keep MIN_GAP_SECONDS between them (a Lindley recursion, vectorised)."""
    n_ses = len(sessions.profile)
    step = sessions.wall + MIN_GAP_SECONDS
    prof_of = sessions.profile
    csum = np.cumsum(step)
    group_first = _run_starts(prof_of)
    prev_csum = np.r_[0, csum[:-1]]
    base = np.maximum.accumulate(np.where(group_first, np.arange(n_ses), 0))
    before = prev_csum - prev_csum[base]  # sum of steps of earlier sessions in the group
    key = sessions.slot_utc - before
    # running max of key within group (groups are contiguous; offset by group id)
    gid = np.cumsum(group_first) - 1
    offset = gid.astype(np.int64) * (1 << 40)
    runmax = np.maximum.accumulate(key + offset) - offset
    return runmax + before


@dataclass(frozen=True)
class _Events:
    """Every session's events, by session and then time."""

    session: np.ndarray  # event -> its session
    kind: np.ndarray  # event -> its type (EV)
    ts: np.ndarray  # event -> when, UTC epoch seconds
    position: np.ndarray  # event -> the position in the title


def _session_events(sessions: _Sessions, ses_start: np.ndarray) -> _Events:
    """Step 5a: play, heartbeats every 60 s of playback, an optional pause/resume and seek,
    and usually a stop; a pause shifts the later events' time, a seek their position."""
    watch, has_pause, has_seek = sessions.watch, sessions.has_pause, sessions.has_seek
    pause_tau, seek_tau = sessions.pause_tau, sessions.seek_tau
    n_hb = np.maximum((watch - 1) // HEARTBEAT_SECONDS, 0)
    n_ev = 1 + n_hb + 2 * has_pause + has_seek + sessions.has_stop
    total = int(n_ev.sum())
    ev_ses = np.repeat(np.arange(len(watch)), n_ev)
    r = _rank_in_group(ev_ses)
    nh = n_hb[ev_ses]
    # Layout within a session before sorting: play, heartbeats..., pause, resume, seek, stop.
    kind = np.full(total, EV["heartbeat"], dtype=np.int8)
    tau = r * HEARTBEAT_SECONDS
    kind[r == 0] = EV["play"]
    extra = r - nh  # 1.. for the optional events
    hp, hs = has_pause[ev_ses], has_seek[ev_ses]
    is_pause = (extra == 1) & hp
    is_resume = (extra == 2) & hp
    is_seek = (extra == 1 + 2 * hp) & hs
    is_stop = (r == n_ev[ev_ses] - 1) & sessions.has_stop[ev_ses]
    kind[is_pause], kind[is_resume], kind[is_seek], kind[is_stop] = EV["pause"], EV["resume"], EV["seek"], EV["stop"]
    tau = np.where(is_pause | is_resume, pause_tau[ev_ses], tau)
    tau = np.where(is_seek, seek_tau[ev_ses], tau)
    tau = np.where(is_stop, watch[ev_ses], tau)
    # A tie on tau keeps this order: play, pause, resume, heartbeat, seek, stop.
    tie = np.select(
        [kind == EV["play"], kind == EV["pause"], kind == EV["resume"], kind == EV["heartbeat"], kind == EV["seek"]],
        [0, 1, 2, 3, 4],
        5,
    )
    order = np.lexsort((tie, tau, ev_ses))
    kind, tau, ev_ses = kind[order], tau[order], ev_ses[order]
    after_pause = (tau > pause_tau[ev_ses]) | ((tau == pause_tau[ev_ses]) & (kind != EV["pause"]))
    after_pause &= has_pause[ev_ses]
    after_seek = has_seek[ev_ses] & ((tau > seek_tau[ev_ses]) | (kind == EV["seek"]) & (tau == seek_tau[ev_ses]))
    ev_ts = ses_start[ev_ses] + tau + np.where(after_pause, sessions.pause_len[ev_ses], 0)
    position = sessions.start_pos[ev_ses] + tau + np.where(after_seek, sessions.seek_delta[ev_ses], 0)
    position = np.clip(position, 0, sessions.runtime[ev_ses]).astype(np.int64)
    return _Events(session=ev_ses, kind=kind, ts=ev_ts, position=position)


def _follow_on(sessions: _Sessions, ses_start: np.ndarray, events: _Events) -> tuple[np.ndarray, _Events]:
    """Step 5b: each follow-on session (and its events) moved earlier, to start its follow_gap
    after the previous session's last event. Queued sessions are MIN_GAP_SECONDS apart, more
    than any follow_gap, so this only moves a session away from the next one."""
    first = _run_starts(events.session)
    last = _run_ends(events.session)
    first_ts = events.ts[first]  # every session has at least its play event
    last_ts = events.ts[last]
    follow = sessions.follow_gap > 0
    shift = np.zeros(len(ses_start), dtype=np.int64)
    shift[follow] = np.r_[0, last_ts[:-1]][follow] + sessions.follow_gap[follow] - first_ts[follow]
    return ses_start + shift, replace(events, ts=events.ts + shift[events.session])


@dataclass(frozen=True)
class _Delivery:
    """When each event reaches the export, and which sessions the window holds."""

    received: np.ndarray  # event -> received_at, UTC epoch seconds
    in_window: np.ndarray  # session -> held whole by the nights generated?
    keep: np.ndarray  # event -> its session is in the window
    window_start: int
    window_end: int


def _delivery(
    rng: np.random.Generator, sessions: _Sessions, ses_start: np.ndarray, events: _Events, start: dt.date, nights: int
) -> _Delivery:
    """Step 5c: most events are received within seconds, whole sessions 1-3 nights late (offline
    viewing); only sessions wholly inside the generated nights are kept."""
    n_ses = len(ses_start)
    window_start = int(np.datetime64(start, "s").astype(np.int64))
    window_end = window_start + nights * 86400
    ses_end = ses_start + sessions.wall
    late_days = np.where(rng.random(n_ses) < 0.02, rng.integers(1, 4, n_ses), 0)
    in_window = (ses_start >= window_start) & (ses_end + 600 < window_end)
    # Late delivery never pushes a session past the last night (it would simply not exist yet).
    late_days = np.minimum(late_days, np.maximum(nights - 1 - (ses_end - window_start) // 86400, 0))
    total = len(events.session)
    received = np.minimum(events.ts + rng.integers(1, 30, total) + late_days[events.session] * 86400, window_end - 1)
    return _Delivery(
        received=received,
        in_window=in_window,
        keep=in_window[events.session],
        window_start=window_start,
        window_end=window_end,
    )


def _event_table(
    rng: np.random.Generator,
    catalog: pd.DataFrame,
    people: _People,
    sessions: _Sessions,
    events: _Events,
    delivery: _Delivery,
    first_household: int,
) -> tuple[pa.Table, np.ndarray]:
    """Step 5d: the kept events as the export's rows, a few re-delivered in a later night, a few
    copies broken (MALFORMED); with the night (0-based) each row is delivered in."""
    idx = np.flatnonzero(delivery.keep)
    redeliver = idx[rng.random(len(idx)) < 0.005]
    redeliver_night_gap = rng.integers(1, 3, len(redeliver))
    redeliver_received = delivery.received[redeliver] + redeliver_night_gap * 86400
    ok = redeliver_received < delivery.window_end
    redeliver, redeliver_received = redeliver[ok], redeliver_received[ok]
    all_idx = np.r_[idx, redeliver]
    all_received = np.r_[delivery.received[idx], redeliver_received]
    s = events.session[all_idx]
    event_seq = all_idx.astype(np.int64) + (first_household << 24)  # unique across chunks
    table = pa.table(
        {
            # Fixed width, so that ordering by event_id is ordering by the simulated sequence.
            "event_id": pc.binary_join_element_wise(
                "ev", pc.utf8_lpad(pa.array(event_seq).cast(pa.string()), 16, "0"), ""
            ),
            "household_id": _ids("hh", people.hh_index[sessions.household[s]]),
            "profile_id": _ids("pr", people.prof_global[sessions.profile[s]]),
            "device_id": _ids("dv", people.dev_global[sessions.device[s]]),
            "device_type": pa.array(people.dev_type[sessions.device[s]]),
            "title_id": pa.array(catalog["title_id"].to_numpy()[sessions.title[s]]),
            "event_type": pa.array(np.array(EVENT_TYPES)[events.kind[all_idx]]),
            "event_ts": _iso(events.ts[all_idx]),
            "position_seconds": pa.array(events.position[all_idx]),
            "received_at": _iso(all_received),
        }
    )
    night = (all_received - delivery.window_start) // 86400
    return _with_malformed_rows(rng, table, night, first_household)


def _dimension_frames(people: _People) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chunk's rows of households.csv and profiles.csv."""
    households_df = pd.DataFrame(
        {
            "household_id": [f"hh{i:07d}" for i in people.hh_index],
            "country_code": [TIMEZONES[t][0] for t in people.tz_index],
            "timezone": [TIMEZONES[t][1] for t in people.tz_index],
        }
    )
    names = np.where(
        people.prof_kids,
        KIDS_NAMES[people.prof_rank % len(KIDS_NAMES)],
        PROFILE_NAMES[(people.prof_global * 7) % len(PROFILE_NAMES)],
    )
    profiles_df = pd.DataFrame(
        {
            "profile_id": [f"pr{i:08d}" for i in people.prof_global],
            "household_id": [f"hh{i:07d}" for i in people.hh_index[people.prof_hh]],
            "profile_name": names,
            "is_kids_profile": people.prof_kids,
        }
    )
    return households_df, profiles_df


# What real exports get wrong now and then; each becomes a quarantined row with this reason.
MALFORMED = (
    ("missing_profile_id", "profile_id", ""),
    ("unknown_event_type", "event_type", "rewind"),
    ("unparseable_event_ts", "event_ts", "2026-13-45T25:61:00Z"),
    ("negative_position", "position_seconds", "-42"),
)
MALFORMED_RATE = 0.0005


def _with_malformed_rows(rng, events: pa.Table, night: np.ndarray, first_household: int):
    """Extra copies of a few events, each broken in one field (never replacing a real event)."""
    count = int(events.num_rows * MALFORMED_RATE)
    if count == 0:
        return events, night
    picks = np.sort(rng.choice(events.num_rows, count, replace=False))
    bad = (
        events.take(pa.array(picks)).cast(pa.schema([(name, pa.string()) for name in events.column_names])).to_pandas()
    )
    for i, (_, column, value) in enumerate(MALFORMED):
        bad.loc[bad.index % len(MALFORMED) == i, column] = value
    bad["event_id"] = [f"bad{first_household:07d}{i:07d}" for i in range(count)]
    strings = events.cast(pa.schema([(name, pa.string()) for name in events.column_names]))
    merged = pa.concat_tables([strings, pa.Table.from_pandas(bad, schema=strings.schema, preserve_index=False)])
    return merged, np.r_[night, night[picks]]


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    width = {"hh": 7, "pr": 8, "dv": 8}[prefix]
    text = pc.utf8_lpad(pa.array(numbers.astype(np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "")


def _iso(epoch_seconds: np.ndarray) -> pa.Array:
    # Arrow's cast of a zone-less timestamp[s] is "YYYY-MM-DD HH:MM:SS": 6x faster than strftime.
    text = pa.array(epoch_seconds.astype("datetime64[s]")).cast(pa.string())
    return pc.binary_join_element_wise(pc.replace_substring(text, " ", "T"), "Z", "")


def _session_starts(sessions: _Sessions, ev_ses: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Which kept events start a session, by the plan: a planned session's first event, unless it
    merges with the previous one (kept too), and the resume after a pause over the gap."""
    first = _run_starts(ev_ses)
    after_previous = np.r_[False, ev_ses[1:] == ev_ses[:-1] + 1][: len(ev_ses)]
    starts = first & ~(sessions.merges_previous[ev_ses] & after_previous)
    return starts | ((kind == EV["resume"]) & sessions.pause_splits[ev_ses])


def _ground_truth(
    ev_ses,
    kind,
    ev_ts,
    position,
    starts,
    ses_prof,
    ses_title,
    ses_dev,
    ses_hh,
    catalog,
    hh_index,
    prof_global,
    dev_global,
):
    """Sessions, cycles and completions by the definitions in docs/metrics.md, in numpy.

    `starts` marks the events that start a session (_session_starts); a session's profile,
    device, title and household are those of the planned session of its first event.
    """
    tses = np.cumsum(starts) - 1  # event -> its session
    n_ses = int(starts.sum())
    planned = ev_ses[starts]  # session -> the planned session it starts with
    counted_kinds = np.isin(kind, [EV["play"], EV["heartbeat"], EV["resume"], EV["seek"]])
    same = np.r_[tses[1:] == tses[:-1], False]
    dt_next = np.r_[np.diff(ev_ts), 0]
    dpos_next = np.r_[np.diff(position), 0]
    counted = np.where(same & counted_kinds, np.minimum(dt_next, np.maximum(dpos_next, 0)), 0)
    played = np.bincount(tses, weights=counted, minlength=n_ses).astype(np.int64)
    event_count = np.bincount(tses, minlength=n_ses)
    last = _run_ends(tses)
    maxpos = np.zeros(n_ses, dtype=np.int64)
    np.maximum.at(maxpos, tses, position)

    title_ids = catalog["title_id"].to_numpy()
    content_end = catalog["content_end_seconds"].to_numpy()
    sessions = pd.DataFrame(
        {
            "session_index": np.arange(n_ses),
            "household_id": [f"hh{i:07d}" for i in hh_index[ses_hh[planned]]],
            "profile_id": [f"pr{i:08d}" for i in prof_global[ses_prof[planned]]],
            "device_id": [f"dv{i:08d}" for i in dev_global[ses_dev[planned]]],
            "title_id": title_ids[ses_title[planned]],
            "started_at": pd.to_datetime(ev_ts[starts], unit="s", utc=True),
            "ended_at": pd.to_datetime(ev_ts[last], unit="s", utc=True),
            "start_position_seconds": position[starts],
            "max_position_seconds": maxpos,
            "played_seconds": played,
            "event_count": event_count,
        }
    )
    sessions["is_view"] = sessions["played_seconds"] >= 120

    # Cycles: per (profile, title), ordered by (started_at, device_id).
    sessions["content_end_seconds"] = content_end[ses_title[planned]]
    sessions = sessions.sort_values(["profile_id", "title_id", "started_at", "device_id"], kind="stable").reset_index(
        drop=True
    )
    restart_threshold = np.minimum(300, 0.05 * sessions["content_end_seconds"].to_numpy())
    group_first = (sessions["profile_id"] != sessions["profile_id"].shift()) | (
        sessions["title_id"] != sessions["title_id"].shift()
    )
    prev_max = sessions["max_position_seconds"].shift().to_numpy()
    new_cycle = group_first.to_numpy() | (
        (sessions["start_position_seconds"].to_numpy() < restart_threshold) & (prev_max >= restart_threshold)
    )
    sessions["cycle_index"] = np.cumsum(new_cycle) - 1

    # Coverage: each counted pair covers [a.position, a.position + counted], clipped to [0, content end].
    cyc_of_session = np.full(n_ses, -1, dtype=np.int64)
    cyc_of_session[sessions["session_index"].to_numpy()] = sessions["cycle_index"].to_numpy()
    pair = counted > 0
    pc_cycle = cyc_of_session[tses[pair]]
    cend = content_end[ses_title[ev_ses[pair]]]
    lo = np.clip(position[pair], 0, cend)
    hi = np.clip(position[pair] + counted[pair], 0, cend)
    order = np.lexsort((lo, pc_cycle))
    pc_cycle, lo, hi = pc_cycle[order], lo[order], hi[order]
    gfirst = _run_starts(pc_cycle)
    gid = np.cumsum(gfirst) - 1
    offset = gid.astype(np.int64) * (1 << 40)
    runmax = np.maximum.accumulate(hi + offset) - offset
    prev = np.where(gfirst, np.iinfo(np.int64).min, np.r_[0, runmax[:-1]])
    gain = np.maximum(hi - np.maximum(lo, prev), 0)
    n_cycles = int(sessions["cycle_index"].max()) + 1 if len(sessions) else 0
    coverage = np.bincount(pc_cycle, weights=gain, minlength=n_cycles).astype(np.int64)

    cycles = sessions.groupby("cycle_index", sort=True).agg(
        household_id=("household_id", "first"),
        profile_id=("profile_id", "first"),
        title_id=("title_id", "first"),
        started_at=("started_at", "min"),
        session_count=("session_index", "size"),
        played_seconds=("played_seconds", "sum"),
        content_end_seconds=("content_end_seconds", "first"),
    )
    cycles["coverage_seconds"] = coverage[cycles.index.to_numpy()]
    cycles["is_completed"] = cycles["coverage_seconds"] >= 0.9 * cycles["content_end_seconds"]
    reached = sessions[sessions["max_position_seconds"] >= 0.9 * sessions["content_end_seconds"]]
    cycles["completed_at"] = reached.groupby("cycle_index")["ended_at"].min().reindex(cycles.index)
    cycles.loc[~cycles["is_completed"], "completed_at"] = pd.NaT
    cycles = cycles.reset_index(drop=True)
    sessions = sessions.drop(columns=["session_index", "cycle_index", "content_end_seconds"])
    return {"truth_sessions": sessions, "truth_cycles": cycles}


def _write_events(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "csv":
        with pa.OSFile(str(path), "wb") as sink:
            pacsv.write_csv(table, sink)
    elif fmt == "csv.gz":
        # zlib's usual level 6, not Arrow's gzip stream (level 9: 4x slower for a few % smaller);
        # no name or time in the header, so the same seed writes the same bytes.
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as sink,
        ):
            pacsv.write_csv(table, sink)
    elif fmt == "ndjson.gz":
        frame = table.to_pandas()
        frame.to_json(path, orient="records", lines=True, compression="gzip")
    else:
        raise ValueError(f"unknown events format {fmt!r} (csv, csv.gz, parquet, ndjson.gz)")


EVENT_FORMATS = ("csv.gz", "csv", "parquet", "ndjson.gz")


def generate(
    out_dir: Path,
    start: dt.date,
    nights: int,
    households: int,
    seed: int,
    truth_dir: Path | None = None,
    events_format: str = "csv.gz",
    progress: Callable[[str], None] | None = None,
    first_household: int = 1,
    chunk_households: int | None = None,
) -> GenerateResult:
    """Write `nights` export folders under `out_dir` and the ground truth under `truth_dir`.

    The catalog depends on `seed` alone (runtimes; release dates follow `start`); households,
    profiles, devices and event ids are numbered from `first_household`, so a second call
    with the same seed and a later `first_household` adds other households under the same
    catalog (other nights of one service). Households are simulated in chunks, each written as
    its own events file per night (`playback_events-partNNNN`): `chunk_households` households per
    chunk (default: as many as keep a chunk's memory bounded, at least 500).
    """
    if nights < 1 or households < 1:
        raise ValueError("nights and households must be at least 1")
    if events_format not in EVENT_FORMATS:
        raise ValueError(f"unknown events format {events_format!r}; choose one of {', '.join(EVENT_FORMATS)}")
    out_dir = Path(out_dir)
    truth_dir = Path(truth_dir) if truth_dir else out_dir.parent / f"{out_dir.name}_truth"
    if truth_dir.resolve() == out_dir.resolve() or out_dir.resolve() in truth_dir.resolve().parents:
        raise ValueError("the ground truth must be written outside the exports folder")
    rng = np.random.default_rng(seed)
    catalog = build_catalog(rng, start, nights)
    night_dates = [start + dt.timedelta(days=i) for i in range(nights)]
    for d in night_dates:
        folder = out_dir / d.isoformat()
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    if truth_dir.exists():
        shutil.rmtree(truth_dir)
    (truth_dir / "sessions").mkdir(parents=True)
    (truth_dir / "cycles").mkdir(parents=True)

    rows: dict[dt.date, dict[str, int]] = {d: {} for d in night_dates}
    n_events = n_sessions = 0
    household_frames, profile_frames = [], []
    if chunk_households is not None and chunk_households < 1:
        raise ValueError("chunk_households must be at least 1")
    chunk_households = chunk_households or max(500, CHUNK_HOUSEHOLD_NIGHTS // nights)
    chunks = range(0, households, chunk_households)
    for chunk_no, first in enumerate(chunks):
        size = min(chunk_households, households - first)
        chunk_rng = np.random.default_rng([seed, chunk_no])
        sim = _simulate_chunk(chunk_rng, catalog, first + first_household, size, start, nights)
        events: pa.Table = sim["events"]
        night = sim["night"]
        suffix = events_format
        for i, d in enumerate(night_dates):
            part = events.filter(pa.array(night == i))
            name = f"playback_events-part{chunk_no:04d}.{suffix}"
            _write_events(part, out_dir / d.isoformat() / name, events_format)
            rows[d][name] = part.num_rows
        sim["truth_sessions"].to_parquet(truth_dir / "sessions" / f"part{chunk_no:04d}.parquet", index=False)
        sim["truth_cycles"].to_parquet(truth_dir / "cycles" / f"part{chunk_no:04d}.parquet", index=False)
        household_frames.append(sim["households"])
        profile_frames.append(sim["profiles"])
        n_events += events.num_rows
        n_sessions += len(sim["truth_sessions"])
        if progress:
            progress(f"households {first + size:,}/{households:,}: {n_events:,} events, {n_sessions:,} sessions")

    households_df = pd.concat(household_frames, ignore_index=True)
    profiles_df = pd.concat(profile_frames, ignore_index=True)
    titles_df = catalog[list(TITLE_COLUMNS)]
    for d in night_dates:
        folder = out_dir / d.isoformat()
        titles_df.to_csv(folder / "titles.csv", index=False)
        households_df.to_csv(folder / "households.csv", index=False)
        profiles_df.to_csv(folder / "profiles.csv", index=False)
        rows[d].update(
            {"titles.csv": len(titles_df), "households.csv": len(households_df), "profiles.csv": len(profiles_df)}
        )
        write_manifest(folder, d, rows[d])
    titles_df.to_parquet(truth_dir / "titles.parquet", index=False)
    (truth_dir / "README.json").write_text(
        json.dumps(
            {
                "start": start.isoformat(),
                "nights": nights,
                "households": households,
                "seed": seed,
                "events": n_events,
                "sessions": n_sessions,
                "columns": list(EVENT_COLUMNS),
            },
            indent=2,
        )
        + "\n"
    )
    return GenerateResult(nights, households, n_events, n_sessions, out_dir, truth_dir)
