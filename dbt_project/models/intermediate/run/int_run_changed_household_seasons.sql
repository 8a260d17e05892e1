-- This run only: the (household, season) rows of fct_household_season_progress this run may
-- change. A season is a series and season number; its rows follow from its episodes'
-- household-title rows and from the catalog's list of its episodes. So: the seasons of the
-- (household, title) pairs this run changes, by the catalog as published and as it stands after
-- the run; and every household's row of a season whose episodes the run changes (a title added
-- to it, dropped from it or moved to another season changes its size for every household).
with

changes as (

    select * from {{ ref('int_run_changes') }}

),

titles as (

    select * from {{ ref('int_titles_current') }}

),

published_titles as (

    select * from {{ source('published_intermediate', 'int_titles_current') }}

),

-- Not materialized: each is read by a semi join on the changed seasons, which DuckDB skips on
-- most nights (the catalog moves no episode), so a night reads no published season or
-- household-title row here. The household-title rows as published, not after the run: those
-- this run writes are of the pairs it changes, whose seasons the first branch below takes.
published_progress as not materialized (

    select * from {{ source('published', 'fct_household_season_progress') }}

),

published_household_titles as not materialized (

    select * from {{ source('published', 'fct_household_title_rewatches') }}

),

title_seasons as (

    select
        title_id,
        series_title,
        season_number

    from titles

    where {{ is_season_episode() }}

),

published_title_seasons as (

    select
        title_id,
        series_title,
        season_number

    from published_titles

    where {{ is_season_episode() }}

),

-- Titles whose season the run changes: the season they leave and the one they join.
season_moves as (

    select
        title_seasons.series_title,
        title_seasons.season_number,
        published_title_seasons.series_title as published_series_title,
        published_title_seasons.season_number as published_season_number

    from title_seasons
    full outer join published_title_seasons
        on title_seasons.title_id = published_title_seasons.title_id
    where
        title_seasons.series_title is distinct from published_title_seasons.series_title
        or title_seasons.season_number is distinct from published_title_seasons.season_number

),

changed_seasons as (

    select
        series_title,
        season_number
    from season_moves
    where series_title is not null

    union

    select
        published_series_title as series_title,
        published_season_number as season_number
    from season_moves
    where published_series_title is not null

),

changed_household_seasons as (

    select
        changes.household_id,
        title_seasons.series_title,
        title_seasons.season_number
    from changes
    inner join title_seasons
        on changes.title_id = title_seasons.title_id

    union

    select
        changes.household_id,
        published_title_seasons.series_title,
        published_title_seasons.season_number
    from changes
    inner join published_title_seasons
        on changes.title_id = published_title_seasons.title_id

    union

    select
        published_progress.household_id,
        published_progress.series_title,
        published_progress.season_number
    from published_progress
    semi join changed_seasons
        on
            published_progress.series_title = changed_seasons.series_title
            and published_progress.season_number = changed_seasons.season_number

    union

    select
        published_household_titles.household_id,
        title_seasons.series_title,
        title_seasons.season_number
    from published_household_titles
    inner join title_seasons
        on published_household_titles.title_id = title_seasons.title_id
    semi join changed_seasons
        on
            title_seasons.series_title = changed_seasons.series_title
            and title_seasons.season_number = changed_seasons.season_number

)

select * from changed_household_seasons
