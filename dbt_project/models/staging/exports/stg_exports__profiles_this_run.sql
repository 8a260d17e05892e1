{{ stg_profiles(source('exports', 'profiles_this_run')) }}
