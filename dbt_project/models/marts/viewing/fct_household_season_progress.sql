{{ config(meta={'rewatch_publish': 'apply'}) }}

-- One row per household and season of a series it has a session of (docs/metrics.md,
-- "Seasons"): how far through the season the household is, and how long it took to finish.
-- Only the household seasons this run may change (int_run_changed_household_seasons), counted
-- from all their episodes' household-title rows.
with

household_titles as (

    select * from {{ after_run('published', 'fct_household_title_rewatches', ['household_id', 'title_id']) }}

),

changed_household_seasons as (

    select * from {{ ref('int_run_changed_household_seasons') }}

),

titles as (

    select * from {{ ref('int_titles_current') }}

),

-- A season is its series and season number; its episodes are the catalog's current ones.
season_episodes as (

    select
        title_id,
        series_title,
        season_number

    from titles

    where {{ is_season_episode() }}

),

season_sizes as (

    select
        series_title,
        season_number,
        count(*) as episodes_in_season

    from season_episodes

    group by series_title, season_number

),

household_seasons as (

    select
        household_titles.household_id,
        season_episodes.series_title,
        season_episodes.season_number,
        count(household_titles.first_viewed_at) as episodes_viewed,
        count(*) filter (where household_titles.completions >= 1) as episodes_completed,
        min(household_titles.first_viewed_at) as first_viewed_at,
        min(household_titles.first_viewed_local_date) as first_viewed_local_date,
        max(household_titles.first_completed_at) as last_episode_completed_at,
        max(household_titles.first_completed_local_date) as last_episode_completed_local_date

    from household_titles
    inner join season_episodes
        on household_titles.title_id = season_episodes.title_id
    semi join changed_household_seasons
        on
            household_titles.household_id = changed_household_seasons.household_id
            and season_episodes.series_title = changed_household_seasons.series_title
            and season_episodes.season_number = changed_household_seasons.season_number

    group by
        household_titles.household_id,
        season_episodes.series_title,
        season_episodes.season_number

),

progress as (

    select
        household_seasons.household_id,
        household_seasons.series_title,
        household_seasons.season_number,
        season_sizes.episodes_in_season,
        household_seasons.episodes_viewed,
        household_seasons.episodes_completed,
        household_seasons.episodes_completed = season_sizes.episodes_in_season as is_season_completed,
        household_seasons.first_viewed_at,
        household_seasons.first_viewed_local_date

    from household_seasons
    inner join season_sizes
        on
            household_seasons.series_title = season_sizes.series_title
            and household_seasons.season_number = season_sizes.season_number

),

-- The season is completed when its last episode is first completed.
completions as (

    select
        progress.*,
        case
            when progress.is_season_completed then household_seasons.last_episode_completed_at
        end as season_completed_at,
        case
            when progress.is_season_completed then household_seasons.last_episode_completed_local_date
        end as season_completed_local_date

    from progress
    inner join household_seasons
        on
            progress.household_id = household_seasons.household_id
            and progress.series_title = household_seasons.series_title
            and progress.season_number = household_seasons.season_number

),

binges as (

    select
        *,
        -- Local days from the first view to the completion, both counted: a season watched
        -- through in one day is 1.
        date_diff('day', first_viewed_local_date, season_completed_local_date) + 1 as binge_days

    from completions

)

select * from binges
