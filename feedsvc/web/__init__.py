"""The web layer: HTTP routes, handlers and the one error middleware over a built service.

    app         create_app(service): routes and middleware, nothing else
    routes      route → handler (the patterns are feedsvc.publish.urls')
    handlers    look up what is ready, add headers; never render a feed themselves
    paging      the feed query parameters, checked strictly
    middleware  the one place exceptions become HTTP responses
    server      listen() before anything starts; http_server() serves a built service
"""
