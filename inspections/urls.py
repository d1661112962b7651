from django.urls import path

from inspections import views

app_name = "inspections"
urlpatterns = [
    path("mine/", views.my_tasks, name="my_tasks"),
    path("board/", views.task_board, name="board"),
    path("targeted/new/", views.targeted_open, name="targeted_open"),
    path("<int:pk>/", views.task_detail, name="task_detail"),
    path("<int:pk>/start/", views.task_start, name="task_start"),
    path("<int:pk>/record/", views.record_edit, name="record_edit"),
    path("<int:pk>/record/autosave/", views.record_autosave, name="record_autosave"),
    path("<int:pk>/submit/", views.task_submit, name="task_submit"),
    path("<int:pk>/approve/", views.task_approve, name="task_approve"),
    path("<int:pk>/return/", views.task_return, name="task_return"),
    path("<int:pk>/correct/", views.result_correct, name="result_correct"),
    path("<int:pk>/problems/", views.problem_add, name="problem_add"),
    path(
        "<int:pk>/problems/<int:problem_pk>/verify/",
        views.problem_verify,
        name="problem_verify",
    ),
    path("<int:pk>/problems/<int:problem_pk>/close/", views.problem_close, name="problem_close"),
    path("<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path(
        "<int:pk>/evidence/<int:evidence_pk>/",
        views.evidence_download,
        name="evidence_download",
    ),
    path("<int:pk>/joint/", views.task_joint, name="task_joint"),
    path("<int:pk>/follow-on/", views.follow_on_open, name="follow_on_open"),
    path("<int:pk>/pdf/<slug:kind>/", views.task_pdf, name="task_pdf"),
]
