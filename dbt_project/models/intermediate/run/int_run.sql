-- The run itself: which dbt invocation built the this-run layer, for which nights. The stored
-- tables check it before applying this layer (macros/delete_changed.sql: assert_this_run).
with

run as (

    select
        '{{ invocation_id }}' as invocation_id,
        [{{ run_nights() }}] as nights,
        cast(now() at time zone 'UTC' as timestamp) as built_at

)

select * from run
