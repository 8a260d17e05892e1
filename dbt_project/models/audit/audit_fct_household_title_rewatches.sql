{#- A table, not a view: it reads the published lake, which the audit does not attach. -#}
{{ config(materialized="table") }}

-- The (household, title) rows this run rewrote, with the household's cycles of the title (a
-- completion is a completed cycle: there are never more completions than cycles).
with

rewatches as (

    select * from {{ ref('fct_household_title_rewatches') }}

),

cycles as (

    select * from {{ after_run('published', 'fct_watch_cycles', ['cycle_id']) }}

),

changes as (

    select * from {{ ref('int_run_changes') }}

),

changed_household_titles as (

    select distinct
        household_id,
        title_id

    from changes

),

household_title_cycles as (

    select
        cycles.household_id,
        cycles.title_id,
        count(*) as cycles

    from cycles

    semi join changed_household_titles
        on
            cycles.household_id = changed_household_titles.household_id
            and cycles.title_id = changed_household_titles.title_id

    group by cycles.household_id, cycles.title_id

),

rewatches_written as (

    select
        rewatches.*,
        coalesce(household_title_cycles.cycles, 0) as cycles

    from rewatches

    semi join changed_household_titles
        on
            rewatches.household_id = changed_household_titles.household_id
            and rewatches.title_id = changed_household_titles.title_id

    left join household_title_cycles
        on
            rewatches.household_id = household_title_cycles.household_id
            and rewatches.title_id = household_title_cycles.title_id

)

select * from rewatches_written
